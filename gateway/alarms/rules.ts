/**
 * The alarm rules: for each, a pure verdict on the current inputs. The
 * engine (engine.ts) turns verdicts into alarm conditions with delays,
 * latching, acknowledgement and escalation; rules know nothing of that.
 *
 * Vocabulary from IEC 60601-1-8: an alarm condition is physiological (about
 * the patient) or technical (about the equipment).
 */
import type { ResolvedLimits, ThresholdSettings } from '../../protocol/limits.ts';
import type { AlarmKind } from '../../protocol/schemas.ts';
import { type BaselineStats, MAD_TO_SIGMA } from './baseline.ts';
import type { SensorState, VitalsEstimate } from './vitals.ts';

export type RuleId = Exclude<keyof ResolvedLimits, 'escalation'>;

export interface RuleInputs {
  nowMs: number;
  limits: ResolvedLimits;
  /** The estimate observed now; null when evaluating on a tick or a technical observation. */
  vitals: VitalsEstimate | null;
  /** The signal has been good for a whole analysis window: the estimate's values may count. */
  signalSettled: boolean;
  /** The signal is good again but has not yet settled: values are on their way. */
  signalSettling: boolean;
  /** The latest estimate and the time it arrived, for technical rules. */
  lastEstimate: { estimate: VitalsEstimate; atMs: number } | null;
  sensor: { state: SensorState; cause?: string } | null;
  storageFill: number | null;
  uplinkDownSinceMs: number | null;
  overflowBurstsLastMinute: number;
  /** When a quality-gated HR or SpO2 value was last seen (or the engine started). */
  lastValidMs: number;
  spo2DesatBaseline: BaselineStats | null;
  hrAnomalyBaseline: BaselineStats | null;
  spo2AnomalyBaseline: BaselineStats | null;
  /** Rules whose alarm is currently active. */
  active: ReadonlySet<RuleId>;
}

export type Verdict =
  /** the alarm condition is present */
  | { state: 'onset'; value: number | null; limit?: number; message: string }
  /** the condition is absent, past any hysteresis band */
  | { state: 'clear' }
  /** inside the hysteresis band: neither starts nor ends a condition */
  | { state: 'hold' }
  /** no trustworthy input: an active alarm stays, a pending one waits */
  | { state: 'unknown' };

export interface RuleDefinition {
  id: RuleId;
  kind: AlarmKind;
  unit?: string;
  /** time the condition must stay absent before an alarm clears (on top of value hysteresis) */
  clearDelayMs: number;
  /**
   * Active alarms that already say what this one would: while one of them is
   * active this rule raises nothing new, so one event gives one alarm.
   */
  suppressedBy?: readonly RuleId[];
  evaluate(input: RuleInputs): Verdict;
}

/** An estimate older than this no longer speaks for the present. */
export const ESTIMATE_FRESH_MS = 3000;

const UNKNOWN: Verdict = { state: 'unknown' };
const CLEAR: Verdict = { state: 'clear' };
const HOLD: Verdict = { state: 'hold' };

/** Reasons that mean the signal carries no physiological information at all. */
const NO_SIGNAL = new Set(['no-finger', 'sensor-fault']);

/** Good signal: SQI at or above the gate, a finger on a working sensor. */
export function signalIsGood(estimate: VitalsEstimate, sqiMin: number, sensor: { state: SensorState } | null): boolean {
  if (!(estimate.sqi >= sqiMin)) return false;
  if (sensor && (sensor.state === 'finger-off' || sensor.state === 'fault')) return false;
  return !estimate.reasons.some((r) => NO_SIGNAL.has(r));
}

/**
 * Quality gate: a value counts only with a good SQI, no finger-off or fault
 * from the driver or the pipeline, and a plausible range.
 */
export function gatedValue(
  estimate: VitalsEstimate,
  which: 'hr' | 'spo2',
  sqiMin: number,
  sensor: { state: SensorState } | null,
): number | null {
  const value = estimate[which];
  if (value === null || !Number.isFinite(value)) return null;
  if (!signalIsGood(estimate, sqiMin, sensor)) return null;
  if (which === 'hr' ? value < 20 || value > 300 : value < 0 || value > 100) return null;
  return value;
}

function physiologicalValue(input: RuleInputs, which: 'hr' | 'spo2'): number | null {
  if (!input.vitals || !input.signalSettled) return null;
  return gatedValue(input.vitals, which, input.limits['poor-signal'].limit, input.sensor);
}

const round1 = (v: number) => Math.round(v * 10) / 10;

function threshold(
  id: RuleId & `${'hr' | 'spo2'}-${string}`,
  which: 'hr' | 'spo2',
  side: 'low' | 'high',
  suppressedBy: readonly RuleId[] = [],
): RuleDefinition {
  const unit = which === 'hr' ? '/min' : '%';
  const label = which === 'hr' ? 'HR' : 'SpO2';
  return {
    id,
    kind: 'physiological',
    unit,
    clearDelayMs: 0,
    suppressedBy,
    evaluate(input) {
      const value = physiologicalValue(input, which);
      if (value === null) return UNKNOWN;
      const s = input.limits[id] as ThresholdSettings;
      const beyond = side === 'low' ? value < s.limit : value > s.limit;
      if (beyond) {
        return {
          state: 'onset',
          value: round1(value),
          limit: s.limit,
          message: `${label} ${round1(value)} ${unit} ${side === 'low' ? 'below' : 'above'} limit ${s.limit} ${unit}`,
        };
      }
      const back = side === 'low' ? value >= s.limit + s.hysteresis : value <= s.limit - s.hysteresis;
      return back ? CLEAR : HOLD;
    },
  };
}

const desaturation: RuleDefinition = {
  id: 'spo2-desat',
  kind: 'physiological',
  unit: '%',
  clearDelayMs: 0,
  suppressedBy: ['spo2-low', 'spo2-low-severe'],
  evaluate(input) {
    const value = physiologicalValue(input, 'spo2');
    const baseline = input.spo2DesatBaseline;
    if (value === null || baseline === null) return UNKNOWN;
    const s = input.limits['spo2-desat'];
    const drop = baseline.median - value;
    const limit = round1(baseline.median - s.drop);
    if (drop >= s.drop) {
      return {
        state: 'onset',
        value: round1(value),
        limit,
        message: `SpO2 ${round1(value)} % is ${round1(drop)} points below the baseline ${round1(baseline.median)} %`,
      };
    }
    return drop < s.drop - s.hysteresis ? CLEAR : HOLD;
  },
};

/** Smallest spread assumed for a baseline, so a very steady patient does not alarm on ordinary jitter. */
export const ANOMALY_SCALE_FLOOR = { hr: 2, spo2: 1 } as const;

function anomaly(id: 'hr-anomaly' | 'spo2-anomaly', which: 'hr' | 'spo2'): RuleDefinition {
  const unit = which === 'hr' ? '/min' : '%';
  const label = which === 'hr' ? 'HR' : 'SpO2';
  return {
    id,
    kind: 'physiological',
    unit,
    clearDelayMs: 0,
    // Anomalies are for the changes the limits miss.
    suppressedBy: which === 'hr' ? ['hr-low', 'hr-low-severe', 'hr-high', 'hr-high-severe'] : ['spo2-low', 'spo2-low-severe', 'spo2-desat'],
    evaluate(input) {
      const value = physiologicalValue(input, which);
      const baseline = which === 'hr' ? input.hrAnomalyBaseline : input.spo2AnomalyBaseline;
      if (value === null || baseline === null) return UNKNOWN;
      const s = input.limits[id];
      const scale = Math.max(MAD_TO_SIGMA * baseline.mad, ANOMALY_SCALE_FLOOR[which]);
      const z = Math.abs(value - baseline.median) / scale;
      if (z > s.k) {
        const limit = round1(value > baseline.median ? baseline.median + s.k * scale : baseline.median - s.k * scale);
        return {
          state: 'onset',
          value: round1(value),
          limit,
          message: `${label} ${round1(value)} ${unit} departs from its baseline ${round1(baseline.median)} ${unit} (robust z ${round1(z)})`,
        };
      }
      return z <= s.k - 1 ? CLEAR : HOLD;
    },
  };
}

function freshEstimate(input: RuleInputs): VitalsEstimate | null {
  const last = input.lastEstimate;
  return last && input.nowMs - last.atMs <= ESTIMATE_FRESH_MS ? last.estimate : null;
}

const sensorOff: RuleDefinition = {
  id: 'sensor-off',
  kind: 'technical',
  clearDelayMs: 0,
  evaluate(input) {
    const estimate = freshEstimate(input);
    const fromDriver = input.sensor?.state === 'finger-off';
    const fromSignal = estimate?.reasons.includes('no-finger') ?? false;
    if (fromDriver || fromSignal) return { state: 'onset', value: null, message: 'Sensor off or finger out: no SpO2/HR monitoring' };
    // The pipeline's no-finger flag flickers while the window holds no pulse at all:
    // only a good signal (or the driver alone, without estimates) says the finger is back.
    if (estimate) return estimate.sqi >= input.limits['poor-signal'].limit ? CLEAR : UNKNOWN;
    return input.sensor ? CLEAR : HOLD;
  },
};

const sensorFault: RuleDefinition = {
  id: 'sensor-fault',
  kind: 'technical',
  clearDelayMs: 0,
  evaluate(input) {
    const estimate = freshEstimate(input);
    if (input.sensor?.state === 'fault' || estimate?.reasons.includes('sensor-fault')) {
      const cause = input.sensor?.cause ? `: ${input.sensor.cause}` : '';
      return { state: 'onset', value: null, message: `Sensor fault${cause}`.slice(0, 200) };
    }
    return input.sensor || estimate ? CLEAR : HOLD;
  },
};

const poorSignal: RuleDefinition = {
  id: 'poor-signal',
  kind: 'technical',
  clearDelayMs: 5000,
  evaluate(input) {
    const estimate = freshEstimate(input);
    if (!estimate) return HOLD;
    // Finger-off and faults have their own alarms; warm-up is expected after every placement.
    if (estimate.reasons.some((r) => NO_SIGNAL.has(r) || r === 'warming-up')) return CLEAR;
    if (input.sensor && input.sensor.state !== 'ok') return CLEAR;
    const sqiMin = input.limits['poor-signal'].limit;
    if (!(estimate.sqi >= sqiMin)) {
      const why = estimate.reasons.length ? ` (${estimate.reasons.join(', ')})` : '';
      return {
        state: 'onset',
        value: Math.round(estimate.sqi * 100) / 100,
        limit: sqiMin,
        message: `Poor signal quality${why}: physiological alarms held back`,
      };
    }
    return CLEAR;
  },
};

const valueNotCurrent: RuleDefinition = {
  id: 'value-not-current',
  kind: 'technical',
  unit: 's',
  clearDelayMs: 0,
  // The sensor-off and sensor-fault alarms already say why nothing is current.
  suppressedBy: ['sensor-off', 'sensor-fault'],
  evaluate(input) {
    const ageS = (input.nowMs - input.lastValidMs) / 1000;
    const limit = input.limits['value-not-current'].limit;
    if (ageS <= limit) return CLEAR;
    // Finger back, signal good, the window still filling: not the moment to call the values stale.
    if (input.signalSettling) return HOLD;
    return { state: 'onset', value: Math.round(ageS), limit, message: `Value not current: last valid HR/SpO2 ${Math.round(ageS)} s ago` };
  },
};

const fifoOverflow: RuleDefinition = {
  id: 'fifo-overflow',
  kind: 'technical',
  unit: '/min',
  clearDelayMs: 0,
  evaluate(input) {
    const limit = input.limits['fifo-overflow'].limit;
    const bursts = input.overflowBurstsLastMinute;
    if (bursts >= limit)
      return { state: 'onset', value: bursts, limit, message: `Sensor FIFO overflowed ${bursts} times in the last minute: samples lost` };
    return bursts === 0 ? CLEAR : HOLD;
  },
};

/** The outbox must drain this far below the limit before the alarm clears. */
export const STORAGE_HYSTERESIS = 0.05;

const storageFull: RuleDefinition = {
  id: 'storage-full',
  kind: 'technical',
  unit: '1',
  clearDelayMs: 0,
  evaluate(input) {
    const fill = input.storageFill;
    if (fill === null) return HOLD;
    const limit = input.limits['storage-full'].limit;
    if (fill >= limit)
      return {
        state: 'onset',
        value: Math.round(fill * 100) / 100,
        limit,
        message: `Outbox storage ${Math.round(fill * 100)} % full: oldest data at risk`,
      };
    return fill < limit - STORAGE_HYSTERESIS ? CLEAR : HOLD;
  },
};

const uplinkLost: RuleDefinition = {
  id: 'uplink-lost',
  kind: 'technical',
  unit: 's',
  clearDelayMs: 0,
  evaluate(input) {
    const since = input.uplinkDownSinceMs;
    if (since === null) return CLEAR;
    const downS = (input.nowMs - since) / 1000;
    const limit = input.limits['uplink-lost'].limit;
    if (downS >= limit)
      return {
        state: 'onset',
        value: Math.round(downS),
        limit,
        message: `No connection to the relay for ${Math.round(downS)} s: alarms only annunciated locally`,
      };
    return HOLD;
  },
};

/** Every rule, in evaluation order (technical causes first, so suppression sees them). */
export const RULES: readonly RuleDefinition[] = [
  sensorFault,
  sensorOff,
  poorSignal,
  threshold('hr-low-severe', 'hr', 'low'),
  threshold('hr-low', 'hr', 'low', ['hr-low-severe']),
  threshold('hr-high-severe', 'hr', 'high'),
  threshold('hr-high', 'hr', 'high', ['hr-high-severe']),
  threshold('spo2-low-severe', 'spo2', 'low'),
  threshold('spo2-low', 'spo2', 'low', ['spo2-low-severe']),
  desaturation,
  anomaly('hr-anomaly', 'hr'),
  anomaly('spo2-anomaly', 'spo2'),
  valueNotCurrent,
  fifoOverflow,
  storageFull,
  uplinkLost,
];
