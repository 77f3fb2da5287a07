/**
 * Wire contract v1: the single source of truth for payload shapes. Both the
 * gateway (when it builds messages) and the relay (when it admits them)
 * validate against these schemas, and the TypeScript types are derived from
 * them, so the two sides cannot drift apart.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { AlarmLimitsDocument } from './limits.ts';
import { GATEWAY_ID_PATTERN } from './topics.ts';

export const SCHEMA_VERSION = 1 as const;

/** Byte limits per payload kind, checked before parsing. */
export const PAYLOAD_LIMITS = {
  vitals: 64 * 1024,
  alarms: 32 * 1024,
  status: 8 * 1024,
  'config-ack': 4 * 1024,
  config: 16 * 1024,
} as const;

/** Most readings one vitals message may carry (10 min at 1 Hz). */
export const MAX_READINGS_PER_MESSAGE = 600;
export const MAX_ALARM_EVENTS_PER_MESSAGE = 100;

/** UCUM unit codes, fixed by the contract so a reader never guesses. */
export const VITALS_UNITS = { hr: '/min', spo2: '%', pi: '%', sqi: '1' } as const;

const GatewayId = T.String({ pattern: GATEWAY_ID_PATTERN, description: 'gateway id, also the MQTT client id' });
const MsgId = T.String({ pattern: '^[0-9A-Za-z_-]{8,64}$', description: 'unique per gateway; relay dedupes on (gatewayId, msgId)' });
const Seq = T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'per gateway and topic, +1 per message created' });
const EpochMs = T.Integer({ minimum: 0, maximum: 8_640_000_000_000, description: 'gateway wall clock, ms since 1970' });
const MonoMs = T.Integer({ minimum: 0, description: 'gateway monotonic clock, ms since boot' });

export const ClockQuality = T.Union([T.Literal('synced'), T.Literal('unsynced')], {
  description: 'synced: wall clock disciplined by NTP; unsynced: no time source yet (a Pi without RTC)',
});
export type ClockQuality = Static<typeof ClockQuality>;

const Clock = T.Object(
  {
    quality: ClockQuality,
    bootId: T.String({
      minLength: 1,
      maxLength: 64,
      description: 'changes on every gateway start; mono is only comparable within one boot',
    }),
  },
  { additionalProperties: false },
);

const Envelope = {
  v: T.Literal(SCHEMA_VERSION),
  msgId: MsgId,
  gatewayId: GatewayId,
  seq: Seq,
  clock: Clock,
};

const NullableNumber = (min: number, max: number, description: string) =>
  T.Union([T.Number({ minimum: min, maximum: max }), T.Null()], { description });

export const QualityReason = T.Union(
  [
    T.Literal('no-finger'),
    T.Literal('clipping'),
    T.Literal('ambient-light'),
    T.Literal('low-perfusion'),
    T.Literal('motion'),
    T.Literal('irregular'),
    T.Literal('channel-disagreement'),
    T.Literal('warming-up'),
    T.Literal('sensor-fault'),
  ],
  { description: 'why an estimate is null or its quality is reduced' },
);
export type QualityReason = Static<typeof QualityReason>;

export const Reading = T.Object(
  {
    t: EpochMs,
    mono: MonoMs,
    hr: NullableNumber(20, 300, 'heart rate in /min, null when not trustworthy'),
    spo2: NullableNumber(0, 100, 'SpO2 in %, null when not trustworthy'),
    pi: NullableNumber(0, 100, 'perfusion index in %, null when not trustworthy'),
    sqi: T.Number({ minimum: 0, maximum: 1, description: 'signal quality index' }),
    reasons: T.Array(QualityReason, { maxItems: 9, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type Reading = Static<typeof Reading>;

export const VitalsMessage = T.Object(
  {
    ...Envelope,
    type: T.Literal('vitals'),
    units: T.Object(
      {
        hr: T.Literal(VITALS_UNITS.hr),
        spo2: T.Literal(VITALS_UNITS.spo2),
        pi: T.Literal(VITALS_UNITS.pi),
        sqi: T.Literal(VITALS_UNITS.sqi),
      },
      { additionalProperties: false },
    ),
    readings: T.Array(Reading, { minItems: 1, maxItems: MAX_READINGS_PER_MESSAGE }),
  },
  { additionalProperties: false },
);
export type VitalsMessage = Static<typeof VitalsMessage>;

export const AlarmPriority = T.Union([T.Literal('high'), T.Literal('medium'), T.Literal('low')]);
export type AlarmPriority = Static<typeof AlarmPriority>;
export const AlarmKind = T.Union([T.Literal('physiological'), T.Literal('technical')]);
export type AlarmKind = Static<typeof AlarmKind>;
export const AlarmEventType = T.Union([
  T.Literal('raised'),
  T.Literal('escalated'),
  T.Literal('acknowledged'),
  T.Literal('paused'),
  T.Literal('cleared'),
]);
export type AlarmEventType = Static<typeof AlarmEventType>;

export const AlarmEvent = T.Object(
  {
    t: EpochMs,
    mono: MonoMs,
    alarmId: T.String({ pattern: '^[0-9A-Za-z_-]{8,64}$', description: 'one alarm condition from raised to cleared' }),
    rule: T.String({ pattern: '^[a-z0-9-]{2,40}$', description: 'rule id, e.g. spo2-low' }),
    event: AlarmEventType,
    kind: AlarmKind,
    priority: AlarmPriority,
    value: T.Optional(T.Union([T.Number(), T.Null()])),
    limit: T.Optional(T.Number()),
    unit: T.Optional(T.String({ maxLength: 16 })),
    message: T.String({ maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type AlarmEvent = Static<typeof AlarmEvent>;

export const AlarmsMessage = T.Object(
  {
    ...Envelope,
    type: T.Literal('alarms'),
    events: T.Array(AlarmEvent, { minItems: 1, maxItems: MAX_ALARM_EVENTS_PER_MESSAGE }),
  },
  { additionalProperties: false },
);
export type AlarmsMessage = Static<typeof AlarmsMessage>;

export const StatusMessage = T.Object(
  {
    ...Envelope,
    type: T.Literal('status'),
    t: EpochMs,
    state: T.Union([T.Literal('online'), T.Literal('offline')], { description: 'offline is also the last will' }),
    software: T.String({ maxLength: 40 }),
    sensor: T.Optional(
      T.Object(
        {
          state: T.Union([T.Literal('ok'), T.Literal('finger-off'), T.Literal('fault'), T.Literal('starting')]),
          cause: T.Optional(T.String({ maxLength: 200 })),
          lostSamples: T.Optional(T.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    outbox: T.Optional(
      T.Object(
        {
          rows: T.Integer({ minimum: 0 }),
          bytes: T.Integer({ minimum: 0 }),
          evicted: T.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type StatusMessage = Static<typeof StatusMessage>;

/** Per-patient alarm limits carried by the config downlink (protocol/limits.ts). */
export const AlarmLimits = AlarmLimitsDocument;
export type AlarmLimits = AlarmLimitsDocument;

export const ConfigMessage = T.Object(
  {
    v: T.Literal(SCHEMA_VERSION),
    type: T.Literal('config'),
    msgId: MsgId,
    configVersion: T.Integer({ minimum: 1 }),
    issuedAt: EpochMs,
    limits: T.Optional(AlarmLimits),
  },
  { additionalProperties: false },
);
export type ConfigMessage = Static<typeof ConfigMessage>;

export const ConfigAckMessage = T.Object(
  {
    ...Envelope,
    type: T.Literal('config-ack'),
    t: EpochMs,
    configVersion: T.Integer({ minimum: 1 }),
    accepted: T.Boolean(),
    reason: T.Optional(T.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type ConfigAckMessage = Static<typeof ConfigAckMessage>;

export const SCHEMAS = {
  vitals: VitalsMessage,
  alarms: AlarmsMessage,
  status: StatusMessage,
  'config-ack': ConfigAckMessage,
  config: ConfigMessage,
} as const;

export interface MessageByKind {
  vitals: VitalsMessage;
  alarms: AlarmsMessage;
  status: StatusMessage;
  'config-ack': ConfigAckMessage;
  config: ConfigMessage;
}
