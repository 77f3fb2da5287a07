/**
 * Per-patient alarm limits: the document the config downlink carries in
 * `ConfigMessage.limits` and `npm run alarms -- --limits FILE.json` reads.
 *
 * Every field is optional; an absent field keeps the documented default
 * (docs/ALARMS.md). The document replaces the previous one as a whole, so
 * sending `{}` restores every default. The schema checks shapes and ranges;
 * `checkLimitsDocument` adds the rules that span fields (ordering of the two
 * levels of a limit).
 *
 * Kept free of imports from schemas.ts so schemas.ts can embed it.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';

const Priority = T.Union([T.Literal('high'), T.Literal('medium'), T.Literal('low')], {
  description: 'IEC 60601-1-8 alarm priority',
});

const common = {
  enabled: T.Optional(T.Boolean({ description: 'false switches the rule off for this patient' })),
  priority: T.Optional(Priority),
  delayS: T.Optional(
    T.Number({ minimum: 0, maximum: 120, description: 'IEC 60601-1-8 alarm condition delay: seconds the condition must persist' }),
  ),
};

const threshold = (unit: string, min: number, max: number, hysteresisMax: number) =>
  T.Object(
    {
      ...common,
      limit: T.Optional(T.Number({ minimum: min, maximum: max, description: `alarm limit in ${unit}` })),
      hysteresis: T.Optional(
        T.Number({
          minimum: 0,
          maximum: hysteresisMax,
          description: `${unit} the value must come back past the limit before the alarm clears`,
        }),
      ),
    },
    { additionalProperties: false },
  );

const HrLimit = threshold('/min', 20, 300, 20);
const Spo2Limit = threshold('%', 50, 100, 5);

const Desaturation = T.Object(
  {
    ...common,
    drop: T.Optional(
      T.Number({ minimum: 2, maximum: 20, description: 'SpO2 points below the patient baseline that count as a desaturation' }),
    ),
    hysteresis: T.Optional(T.Number({ minimum: 0, maximum: 5 })),
  },
  { additionalProperties: false },
);

const Anomaly = T.Object(
  {
    ...common,
    k: T.Optional(
      T.Number({ minimum: 2, maximum: 20, description: 'robust z-score: deviations from the rolling median in units of 1.4826·MAD' }),
    ),
    windowS: T.Optional(T.Number({ minimum: 120, maximum: 3600, description: 'length of the rolling baseline' })),
  },
  { additionalProperties: false },
);

const TechnicalLimit = (description: string, min: number, max: number) =>
  T.Object(
    {
      ...common,
      limit: T.Optional(T.Number({ minimum: min, maximum: max, description })),
    },
    { additionalProperties: false },
  );

const Toggle = T.Object({ ...common }, { additionalProperties: false });

export const AlarmLimitsDocument = T.Object(
  {
    'hr-low': T.Optional(HrLimit),
    'hr-low-severe': T.Optional(HrLimit),
    'hr-high': T.Optional(HrLimit),
    'hr-high-severe': T.Optional(HrLimit),
    'spo2-low': T.Optional(Spo2Limit),
    'spo2-low-severe': T.Optional(Spo2Limit),
    'spo2-desat': T.Optional(Desaturation),
    'hr-anomaly': T.Optional(Anomaly),
    'spo2-anomaly': T.Optional(Anomaly),
    'sensor-off': T.Optional(Toggle),
    'sensor-fault': T.Optional(Toggle),
    'poor-signal': T.Optional(TechnicalLimit('lowest signal quality index (0–1) treated as good', 0.05, 0.95)),
    'value-not-current': T.Optional(TechnicalLimit('seconds since the last valid value', 5, 120)),
    'fifo-overflow': T.Optional(TechnicalLimit('FIFO overflow bursts per minute', 1, 600)),
    'storage-full': T.Optional(TechnicalLimit('outbox fill ratio (0–1)', 0.5, 0.99)),
    'uplink-lost': T.Optional(TechnicalLimit('seconds without the relay', 10, 3600)),
    escalation: T.Optional(
      T.Object(
        {
          afterS: T.Optional(
            T.Number({ minimum: 30, maximum: 600, description: 'an unacknowledged medium alarm becomes high after this' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'per-patient alarm limits (docs/ALARMS.md)' },
);
export type AlarmLimitsDocument = Static<typeof AlarmLimitsDocument>;

export type LimitsRuleId = Exclude<keyof AlarmLimitsDocument, 'escalation'>;
export type LimitsPriority = Static<typeof Priority>;

interface RuleSettings {
  enabled: boolean;
  priority: LimitsPriority;
  delayS: number;
}
export interface ThresholdSettings extends RuleSettings {
  limit: number;
  hysteresis: number;
}
export interface DesaturationSettings extends RuleSettings {
  drop: number;
  hysteresis: number;
}
export interface AnomalySettings extends RuleSettings {
  k: number;
  windowS: number;
}
export interface TechnicalSettings extends RuleSettings {
  limit: number;
}
export type ToggleSettings = RuleSettings;

/** Limits with every default filled in: what the alarm engine runs on. */
export interface ResolvedLimits {
  'hr-low': ThresholdSettings;
  'hr-low-severe': ThresholdSettings;
  'hr-high': ThresholdSettings;
  'hr-high-severe': ThresholdSettings;
  'spo2-low': ThresholdSettings;
  'spo2-low-severe': ThresholdSettings;
  'spo2-desat': DesaturationSettings;
  'hr-anomaly': AnomalySettings;
  'spo2-anomaly': AnomalySettings;
  'sensor-off': ToggleSettings;
  'sensor-fault': ToggleSettings;
  'poor-signal': TechnicalSettings;
  'value-not-current': TechnicalSettings;
  'fifo-overflow': TechnicalSettings;
  'storage-full': TechnicalSettings;
  'uplink-lost': TechnicalSettings;
  escalation: { afterS: number };
}

/** The documented defaults (docs/ALARMS.md lists them with their reasons). */
export const DEFAULT_LIMITS: Readonly<ResolvedLimits> = Object.freeze({
  'hr-low': { enabled: true, priority: 'medium', delayS: 10, limit: 50, hysteresis: 3 },
  'hr-low-severe': { enabled: true, priority: 'high', delayS: 5, limit: 40, hysteresis: 3 },
  'hr-high': { enabled: true, priority: 'medium', delayS: 10, limit: 120, hysteresis: 3 },
  'hr-high-severe': { enabled: true, priority: 'high', delayS: 5, limit: 140, hysteresis: 3 },
  'spo2-low': { enabled: true, priority: 'medium', delayS: 10, limit: 90, hysteresis: 1 },
  'spo2-low-severe': { enabled: true, priority: 'high', delayS: 5, limit: 85, hysteresis: 1 },
  'spo2-desat': { enabled: true, priority: 'medium', delayS: 10, drop: 4, hysteresis: 1 },
  'hr-anomaly': { enabled: true, priority: 'low', delayS: 30, k: 6, windowS: 600 },
  'spo2-anomaly': { enabled: true, priority: 'low', delayS: 30, k: 6, windowS: 600 },
  'sensor-off': { enabled: true, priority: 'medium', delayS: 10 },
  'sensor-fault': { enabled: true, priority: 'medium', delayS: 2 },
  'poor-signal': { enabled: true, priority: 'low', delayS: 15, limit: 0.5 },
  'value-not-current': { enabled: true, priority: 'medium', delayS: 0, limit: 30 },
  'fifo-overflow': { enabled: true, priority: 'low', delayS: 0, limit: 3 },
  'storage-full': { enabled: true, priority: 'medium', delayS: 0, limit: 0.9 },
  'uplink-lost': { enabled: true, priority: 'medium', delayS: 0, limit: 60 },
  escalation: { afterS: 120 },
} satisfies ResolvedLimits);

export type ResolvedOrReason = { ok: true; limits: ResolvedLimits } | { ok: false; reason: string };

const ajv = new Ajv({ allErrors: false, strict: true, strictTypes: false });
const checkDocument = ajv.compile(AlarmLimitsDocument);

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'invalid limits document';
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown property "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  }
  return `${where}: ${error.message ?? 'invalid'}`;
}

/**
 * Validates a limits document and fills in the defaults. Never throws: an
 * invalid document gives the first reason found, naming the field, so the
 * gateway can refuse it in its config-ack and keep the limits it had.
 */
export function resolveLimits(document: unknown): ResolvedOrReason {
  if (!checkDocument(document)) return { ok: false, reason: describe(checkDocument.errors?.[0]) };
  const doc = document as AlarmLimitsDocument;
  const limits = structuredClone(DEFAULT_LIMITS) as ResolvedLimits;
  for (const [key, value] of Object.entries(doc)) {
    if (value !== undefined) Object.assign(limits[key as keyof ResolvedLimits], value);
  }
  const pairs: [LimitsRuleId, LimitsRuleId, 'below' | 'above'][] = [
    ['hr-low-severe', 'hr-low', 'below'],
    ['hr-high-severe', 'hr-high', 'above'],
    ['spo2-low-severe', 'spo2-low', 'below'],
    ['hr-low', 'hr-high', 'below'],
  ];
  for (const [rule, other, side] of pairs) {
    const a = (limits[rule] as ThresholdSettings).limit;
    const b = (limits[other] as ThresholdSettings).limit;
    if (side === 'below' ? a >= b : a <= b) return { ok: false, reason: `/${rule}/limit: ${a} must be ${side} the ${other} limit ${b}` };
  }
  return { ok: true, limits };
}
