/**
 * The alarm engine: pure logic on an injected clock. Every method takes the
 * current monotonic time and returns the alarm events it caused, shaped as
 * the wire contract's `AlarmEvent`, so the gateway can put them straight into
 * the outbox and tests can drive it second by second without sleeping.
 *
 * Terms from IEC 60601-1-8 (2006+A1+A2):
 * - alarm condition delay: a condition must persist this long before it is raised;
 * - latching alarm signal: a high-priority alarm stays after its condition ends, until acknowledged;
 * - acknowledged: the auditory signal stops for as long as the condition lasts, the visual one stays;
 * - audio paused: the auditory signal of the active alarms stops for a limited time (here ≤ 2 min);
 * - escalation: a medium alarm left unacknowledged becomes high.
 */
import { newId } from '../../protocol/ids.ts';
import { type ResolvedLimits, resolveLimits } from '../../protocol/limits.ts';
import type { AlarmEvent, AlarmEventType, AlarmKind, AlarmPriority } from '../../protocol/schemas.ts';
import { WINDOW_S } from '../signal/index.ts';
import { RollingBaseline } from './baseline.ts';
import {
  ESTIMATE_FRESH_MS,
  gatedValue,
  RULES,
  type RuleDefinition,
  type RuleId,
  type RuleInputs,
  signalIsGood,
  type Verdict,
} from './rules.ts';
import { type AlarmSnapshot, checkSnapshot, type SavedAlarm } from './snapshot.ts';
import type { SensorState, TechnicalObservation, VitalsEstimate } from './vitals.ts';

/** Longest audio pause IEC 60601-1-8 lets us offer without an indefinite "audio off" (and the issue caps at 2 min). */
export const MAX_PAUSE_MS = 120_000;
/** Shortest wait before a physiological alarm whose delay is longer: a second estimate (1 Hz) must agree. */
export const MIN_CONFIRMATION_MS = 1000;
/** A gap of untrustworthy data longer than this (plus the settling time) restarts a pending condition delay. */
export const CONDITION_GAP_TOLERANCE_MS = 3000;
/**
 * After the signal was poor, values count again only once the pipeline's
 * whole analysis window (WINDOW_S) holds good signal: estimates computed over
 * a window that still holds an artefact can look clean and be wrong.
 */
export const SIGNAL_SETTLE_MS = WINDOW_S * 1000;
/** Desaturation baseline: median of 5 min of SpO2 ending 30 s ago, so the drop being tested stays out of it. */
export const DESAT_BASELINE = { windowMs: 300_000, lagMs: 30_000, minSamples: 20 } as const;
/** Anomaly baseline ends this long before now, longer than the anomaly delay. */
export const ANOMALY_BASELINE_LAG_MS = 60_000;
export const ANOMALY_BASELINE_MIN_SAMPLES = 120;
/** FIFO overflow bursts are counted over the last minute. */
const OVERFLOW_WINDOW_MS = 60_000;

/**
 * How far the pipeline's estimates trail the patient. Its 8 s analysis window
 * (WINDOW_S) puts a ramp in SpO2 or HR 3–5 s late in the estimates (measured
 * with the emulator's desaturation and bradycardia scenarios, docs/ALARMS.md),
 * so 5 s of every physiological condition delay is already spent in the pipeline.
 */
export const PIPELINE_LATENCY_MS = (WINDOW_S / 2 + 1) * 1000;

const PRIORITY_RANK: Record<AlarmPriority, number> = { low: 1, medium: 2, high: 3 };

export function higherPriority(a: AlarmPriority | null, b: AlarmPriority | null): AlarmPriority | null {
  if (a === null) return b;
  if (b === null) return a;
  return PRIORITY_RANK[a] >= PRIORITY_RANK[b] ? a : b;
}

export interface ActiveAlarm {
  alarmId: string;
  rule: RuleId;
  kind: AlarmKind;
  priority: AlarmPriority;
  raisedMs: number;
  acknowledged: boolean;
  escalated: boolean;
  /** false once the condition has ended but a latching alarm waits for acknowledgement */
  conditionPresent: boolean;
  /** audio paused until this monotonic time */
  pausedUntilMs: number;
  value: number | null;
  limit?: number;
  unit?: string;
  message: string;
}

interface Track {
  pendingSinceMs: number | null;
  lastOnsetMs: number | null;
  clearSinceMs: number | null;
  alarm: ActiveAlarm | null;
}

export interface Annunciation {
  /** highest priority to show on the alarm light, null when nothing is active */
  visual: AlarmPriority | null;
  /** highest priority to sound, null when silent (acknowledged, paused or nothing active) */
  audio: AlarmPriority | null;
}

export type Outcome = { ok: true; events: AlarmEvent[] } | { ok: false; reason: string };

export interface AlarmEngineOptions {
  /** Limits document (protocol/limits.ts); defaults apply without it. Throws if invalid. */
  limits?: unknown;
  /** Wall-clock ms for an event at monotonic time `monoMs` (the contract's `t`). */
  wallClock?: (monoMs: number) => number;
  newAlarmId?: () => string;
  /**
   * How late the signal pipeline's estimates follow the patient (its
   * averaging window). IEC 60601-1-8 counts the alarm condition delay from
   * the event in the patient, averaging included, so the engine waits only
   * the rest of each physiological rule's delay. Default: the gateway
   * pipeline's (PIPELINE_LATENCY_MS); 0 for estimates that are not late.
   */
  signalLatencyMs?: number;
  /** Good signal needed after a poor stretch before values count again (default SIGNAL_SETTLE_MS). */
  signalSettleMs?: number;
}

export interface EngineCounters {
  /** inputs refused as malformed (non-finite numbers, out-of-range ratios) */
  rejectedInputs: number;
  rejectedLimits: number;
}

export class AlarmEngine {
  private current: ResolvedLimits;
  private readonly tracks = new Map<RuleId, Track>();
  private readonly wallClock: (monoMs: number) => number;
  private readonly newAlarmId: () => string;
  private readonly signalLatencyMs: number;
  private readonly signalSettleMs: number;
  /** Start of the current run of good-quality estimates; null while the signal is poor. */
  private goodSinceMs: number | null = null;
  private startMs: number | null = null;
  private lastValidMs: number | null = null;
  private lastEstimate: { estimate: VitalsEstimate; atMs: number } | null = null;
  private sensor: { state: SensorState; cause?: string } | null = null;
  private storageFill: number | null = null;
  private uplinkDownSinceMs: number | null = null;
  private overflowCount: number | null = null;
  private overflowBursts: number[] = [];
  private readonly spo2Desat = new RollingBaseline(DESAT_BASELINE.windowMs, DESAT_BASELINE.lagMs, DESAT_BASELINE.minSamples);
  private readonly hrAnomaly: RollingBaseline;
  private readonly spo2Anomaly: RollingBaseline;
  readonly counters: EngineCounters = { rejectedInputs: 0, rejectedLimits: 0 };

  constructor(options: AlarmEngineOptions = {}) {
    const resolved = resolveLimits(options.limits ?? {});
    if (!resolved.ok) throw new Error(`invalid alarm limits: ${resolved.reason}`);
    this.current = resolved.limits;
    this.wallClock = options.wallClock ?? (() => Date.now());
    this.newAlarmId = options.newAlarmId ?? newId;
    this.signalLatencyMs = Math.max(0, options.signalLatencyMs ?? PIPELINE_LATENCY_MS);
    this.signalSettleMs = Math.max(0, options.signalSettleMs ?? SIGNAL_SETTLE_MS);
    for (const rule of RULES) this.tracks.set(rule.id, { pendingSinceMs: null, lastOnsetMs: null, clearSinceMs: null, alarm: null });
    this.hrAnomaly = new RollingBaseline(this.current['hr-anomaly'].windowS * 1000, ANOMALY_BASELINE_LAG_MS, ANOMALY_BASELINE_MIN_SAMPLES);
    this.spo2Anomaly = new RollingBaseline(
      this.current['spo2-anomaly'].windowS * 1000,
      ANOMALY_BASELINE_LAG_MS,
      ANOMALY_BASELINE_MIN_SAMPLES,
    );
  }

  get limits(): ResolvedLimits {
    return structuredClone(this.current);
  }

  /**
   * Replaces the per-patient limits (config downlink or local file). An
   * invalid document is refused with the reason and the previous limits stay.
   * Rules switched off clear their alarms; the caller gets those events from
   * the next `tick`.
   */
  setLimits(document: unknown): { ok: true } | { ok: false; reason: string } {
    const resolved = resolveLimits(document);
    if (!resolved.ok) {
      this.counters.rejectedLimits++;
      return resolved;
    }
    this.current = resolved.limits;
    this.hrAnomaly.windowMs = this.current['hr-anomaly'].windowS * 1000;
    this.spo2Anomaly.windowMs = this.current['spo2-anomaly'].windowS * 1000;
    return { ok: true };
  }

  /** One estimate from the signal pipeline (about 1 Hz). */
  observeVitals(estimate: VitalsEstimate, nowMs: number): AlarmEvent[] {
    this.start(nowMs);
    if (!isEstimate(estimate)) {
      this.counters.rejectedInputs++;
      return this.evaluate(nowMs, null);
    }
    this.lastEstimate = { estimate, atMs: nowMs };
    const sqiMin = this.current['poor-signal'].limit;
    if (signalIsGood(estimate, sqiMin, this.sensor)) this.goodSinceMs ??= nowMs;
    else this.goodSinceMs = null;
    const settled = this.goodSinceMs !== null && nowMs - this.goodSinceMs >= this.signalSettleMs;
    const hr = settled ? gatedValue(estimate, 'hr', sqiMin, this.sensor) : null;
    const spo2 = settled ? gatedValue(estimate, 'spo2', sqiMin, this.sensor) : null;
    if (hr !== null || spo2 !== null) this.lastValidMs = nowMs;
    const events = this.evaluate(nowMs, estimate, settled);
    // Added after evaluation: a value never sits in the baseline it is tested against.
    if (hr !== null) this.hrAnomaly.add(nowMs, hr);
    if (spo2 !== null) {
      this.spo2Desat.add(nowMs, spo2);
      this.spo2Anomaly.add(nowMs, spo2);
    }
    return events;
  }

  /** State from the driver, the outbox and the uplink; each field optional. */
  observeTechnical(observation: TechnicalObservation, nowMs: number): AlarmEvent[] {
    this.start(nowMs);
    const { sensor, overflowCount, storageFill, uplinkDownSinceMs } = observation;
    if (sensor !== undefined) {
      if (sensor && ['ok', 'finger-off', 'fault', 'starting'].includes(sensor.state)) {
        this.sensor = sensor.cause === undefined ? { state: sensor.state } : { state: sensor.state, cause: String(sensor.cause) };
      } else this.counters.rejectedInputs++;
    }
    if (overflowCount !== undefined) {
      if (Number.isInteger(overflowCount) && overflowCount >= 0) {
        // A smaller count means the driver restarted its counter, not a burst.
        if (this.overflowCount !== null && overflowCount > this.overflowCount) this.overflowBursts.push(nowMs);
        this.overflowCount = overflowCount;
      } else this.counters.rejectedInputs++;
    }
    if (storageFill !== undefined) {
      if (Number.isFinite(storageFill) && storageFill >= 0 && storageFill <= 1) this.storageFill = storageFill;
      else this.counters.rejectedInputs++;
    }
    if (uplinkDownSinceMs !== undefined) {
      if (uplinkDownSinceMs === null || (Number.isFinite(uplinkDownSinceMs) && uplinkDownSinceMs <= nowMs))
        this.uplinkDownSinceMs = uplinkDownSinceMs;
      else this.counters.rejectedInputs++;
    }
    return this.evaluate(nowMs, null);
  }

  /** Advances time without new input: value-not-current, uplink loss, escalation, pause expiry. Call about once a second. */
  tick(nowMs: number): AlarmEvent[] {
    this.start(nowMs);
    return this.evaluate(nowMs, null);
  }

  /** Acknowledges one alarm, by alarm id or rule id. */
  acknowledge(alarmIdOrRule: string, nowMs: number): Outcome {
    const track = [...this.tracks.values()].find((t) => t.alarm && (t.alarm.alarmId === alarmIdOrRule || t.alarm.rule === alarmIdOrRule));
    const alarm = track?.alarm;
    if (!track || !alarm) return { ok: false, reason: `no active alarm "${alarmIdOrRule}"` };
    if (alarm.acknowledged) return { ok: false, reason: `alarm "${alarm.rule}" is already acknowledged` };
    alarm.acknowledged = true;
    const events = [this.event(alarm, 'acknowledged', nowMs)];
    // A latched alarm whose condition has gone ends with its acknowledgement (IEC 60601-1-8 latching alarm signal).
    if (!alarm.conditionPresent) events.push(this.finish(track, nowMs, alarm.message));
    return { ok: true, events };
  }

  /** Acknowledges every active, unacknowledged alarm (the bedside button); no events when there is none. */
  acknowledgeAll(nowMs: number): AlarmEvent[] {
    const events: AlarmEvent[] = [];
    for (const { alarm } of this.tracks.values()) {
      if (!alarm || alarm.acknowledged) continue;
      const outcome = this.acknowledge(alarm.alarmId, nowMs);
      if (outcome.ok) events.push(...outcome.events);
    }
    return events;
  }

  /**
   * Audio paused: silences the active, unacknowledged alarms for at most
   * 2 minutes. Alarms raised during the pause sound at once.
   */
  pause(nowMs: number, durationMs: number): Outcome {
    if (!Number.isFinite(durationMs) || durationMs <= 0 || durationMs > MAX_PAUSE_MS) {
      return { ok: false, reason: `pause must last more than 0 and at most ${MAX_PAUSE_MS / 1000} s, got ${durationMs} ms` };
    }
    const events: AlarmEvent[] = [];
    for (const { alarm } of this.tracks.values()) {
      if (!alarm || alarm.acknowledged) continue;
      alarm.pausedUntilMs = nowMs + durationMs;
      events.push(this.event(alarm, 'paused', nowMs, `${alarm.message} (audio paused ${Math.round(durationMs / 1000)} s)`));
    }
    if (events.length === 0) return { ok: false, reason: 'no unacknowledged alarm to pause' };
    return { ok: true, events };
  }

  /** The active alarms, to save after every change and give to `restore` after a restart. */
  snapshot(): AlarmSnapshot {
    const alarms: SavedAlarm[] = [];
    for (const { alarm } of this.tracks.values()) {
      if (!alarm) continue;
      const { alarmId, rule, kind, priority, acknowledged, escalated, conditionPresent, value, limit, unit, message } = alarm;
      alarms.push({ alarmId, rule, kind, priority, acknowledged, escalated, conditionPresent, value, message });
      if (limit !== undefined) (alarms.at(-1) as SavedAlarm).limit = limit;
      if (unit !== undefined) (alarms.at(-1) as SavedAlarm).unit = unit;
    }
    return { v: 1, alarms };
  }

  /**
   * Takes back the alarms of a snapshot (after a restart), keeping their ids.
   * Monotonic time starts again at boot, so a restored alarm counts as raised
   * now (its escalation timer restarts) and any audio pause is over. The
   * engine then re-evaluates every condition: medium and low alarms clear once
   * their condition is seen gone, latched ones wait for acknowledgement.
   * Refused (nothing restored) when the snapshot is invalid.
   */
  restore(snapshot: unknown, nowMs: number): { ok: true; restored: number } | { ok: false; reason: string } {
    const checked = checkSnapshot(snapshot);
    if (!checked.ok) {
      this.counters.rejectedInputs++;
      return checked;
    }
    this.start(nowMs);
    let restored = 0;
    for (const saved of checked.snapshot.alarms) {
      const track = this.tracks.get(saved.rule as RuleId) as Track;
      if (track.alarm) continue;
      track.alarm = { ...saved, rule: saved.rule as RuleId, raisedMs: nowMs, pausedUntilMs: 0 };
      restored++;
    }
    return { ok: true, restored };
  }

  /** The alarms currently active, highest priority first. */
  active(): ActiveAlarm[] {
    return [...this.tracks.values()]
      .flatMap((t) => (t.alarm ? [{ ...t.alarm }] : []))
      .sort((a, b) => PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] || a.raisedMs - b.raisedMs);
  }

  /** What the alarm light and the buzzer should show now. */
  annunciation(nowMs: number): Annunciation {
    let visual: AlarmPriority | null = null;
    let audio: AlarmPriority | null = null;
    for (const { alarm } of this.tracks.values()) {
      if (!alarm) continue;
      visual = higherPriority(visual, alarm.priority);
      if (!alarm.acknowledged && alarm.pausedUntilMs <= nowMs) audio = higherPriority(audio, alarm.priority);
    }
    return { visual, audio };
  }

  /** Good signal is back (the latest estimate is fresh and good) but the window has not filled yet. */
  private isSettling(nowMs: number): boolean {
    if (this.goodSinceMs === null || this.lastEstimate === null) return false;
    return nowMs - this.lastEstimate.atMs <= ESTIMATE_FRESH_MS && nowMs - this.goodSinceMs < this.signalSettleMs;
  }

  private start(nowMs: number): void {
    if (this.startMs === null) this.startMs = nowMs;
  }

  private evaluate(nowMs: number, vitals: VitalsEstimate | null, signalSettled = false): AlarmEvent[] {
    while (this.overflowBursts.length && (this.overflowBursts[0] as number) <= nowMs - OVERFLOW_WINDOW_MS) this.overflowBursts.shift();
    const active = new Set<RuleId>();
    for (const [id, t] of this.tracks) if (t.alarm) active.add(id);
    const inputs: RuleInputs = {
      nowMs,
      limits: this.current,
      vitals,
      signalSettled,
      signalSettling: this.isSettling(nowMs),
      lastEstimate: this.lastEstimate,
      sensor: this.sensor,
      storageFill: this.storageFill,
      uplinkDownSinceMs: this.uplinkDownSinceMs,
      overflowBurstsLastMinute: this.overflowBursts.length,
      lastValidMs: this.lastValidMs ?? (this.startMs as number),
      spo2DesatBaseline: vitals ? this.spo2Desat.stats(nowMs) : null,
      hrAnomalyBaseline: vitals ? this.hrAnomaly.stats(nowMs) : null,
      spo2AnomalyBaseline: vitals ? this.spo2Anomaly.stats(nowMs) : null,
      active,
    };
    const events: AlarmEvent[] = [];
    for (const rule of RULES) {
      const track = this.tracks.get(rule.id) as Track;
      let verdict = rule.evaluate(inputs);
      if (verdict.state === 'onset' && !track.alarm && rule.suppressedBy?.some((id) => active.has(id))) verdict = { state: 'hold' };
      this.step(rule, track, verdict, nowMs, events);
      if (track.alarm) active.add(rule.id);
      else active.delete(rule.id);
    }
    this.escalate(nowMs, events);
    return events;
  }

  private step(rule: RuleDefinition, track: Track, verdict: Verdict, nowMs: number, events: AlarmEvent[]): void {
    const settings = this.current[rule.id];
    if (!settings.enabled) {
      if (track.alarm) events.push(this.finish(track, nowMs, `${track.alarm.message} (rule switched off)`));
      track.pendingSinceMs = null;
      track.clearSinceMs = null;
      return;
    }
    // Physiological values are held back while the signal settles; a condition still there afterwards keeps its start.
    const toleranceMs = CONDITION_GAP_TOLERANCE_MS + (rule.kind === 'physiological' ? this.signalSettleMs : 0);
    const gapTooLong = track.lastOnsetMs !== null && nowMs - track.lastOnsetMs > toleranceMs;
    switch (verdict.state) {
      case 'onset': {
        track.clearSinceMs = null;
        if (track.pendingSinceMs !== null && gapTooLong) track.pendingSinceMs = null;
        track.lastOnsetMs = nowMs;
        const alarm = track.alarm;
        if (alarm) {
          alarm.conditionPresent = true;
          alarm.value = verdict.value;
          if (verdict.limit !== undefined) alarm.limit = verdict.limit;
          alarm.message = verdict.message;
          return;
        }
        track.pendingSinceMs ??= nowMs;
        // IEC 60601-1-8 alarm condition delay: it runs from the event, so the estimate's own lag counts towards it.
        if (nowMs - track.pendingSinceMs >= this.waitMs(rule, settings.delayS * 1000)) {
          const raised: ActiveAlarm = {
            alarmId: this.newAlarmId(),
            rule: rule.id,
            kind: rule.kind,
            priority: settings.priority,
            raisedMs: nowMs,
            acknowledged: false,
            escalated: false,
            conditionPresent: true,
            pausedUntilMs: 0,
            value: verdict.value,
            message: verdict.message,
          };
          if (verdict.limit !== undefined) raised.limit = verdict.limit;
          if (rule.unit !== undefined) raised.unit = rule.unit;
          track.alarm = raised;
          track.pendingSinceMs = null;
          events.push(this.event(raised, 'raised', nowMs));
        }
        return;
      }
      case 'clear': {
        track.pendingSinceMs = null;
        const alarm = track.alarm;
        if (!alarm?.conditionPresent) return;
        track.clearSinceMs ??= nowMs;
        if (nowMs - track.clearSinceMs < rule.clearDelayMs) return;
        track.clearSinceMs = null;
        alarm.conditionPresent = false;
        // IEC 60601-1-8 latching alarm signal: a high-priority alarm waits for acknowledgement.
        if (alarm.priority !== 'high' || alarm.acknowledged) events.push(this.finish(track, nowMs, `${alarm.message} (condition ended)`));
        return;
      }
      case 'hold':
        track.pendingSinceMs = null;
        track.clearSinceMs = null;
        return;
      case 'unknown':
        if (gapTooLong) track.pendingSinceMs = null;
        return;
    }
  }

  /**
   * What is left of a condition delay once the pipeline's lag is taken off;
   * never less than two estimates in a row (unless the delay itself is
   * shorter), so one odd estimate cannot raise an alarm on its own.
   */
  private waitMs(rule: RuleDefinition, delayMs: number): number {
    if (rule.kind !== 'physiological') return delayMs;
    return Math.min(delayMs, Math.max(MIN_CONFIRMATION_MS, delayMs - this.signalLatencyMs));
  }

  private escalate(nowMs: number, events: AlarmEvent[]): void {
    const afterMs = this.current.escalation.afterS * 1000;
    for (const { alarm } of this.tracks.values()) {
      if (alarm?.priority !== 'medium' || alarm.acknowledged || alarm.pausedUntilMs > nowMs) continue;
      if (nowMs - alarm.raisedMs < afterMs) continue;
      alarm.priority = 'high';
      alarm.escalated = true;
      events.push(
        this.event(alarm, 'escalated', nowMs, `${alarm.message} (unacknowledged for ${Math.round((nowMs - alarm.raisedMs) / 1000)} s)`),
      );
    }
  }

  private finish(track: Track, nowMs: number, message: string): AlarmEvent {
    const alarm = track.alarm as ActiveAlarm;
    track.alarm = null;
    track.pendingSinceMs = null;
    track.clearSinceMs = null;
    return this.event(alarm, 'cleared', nowMs, message);
  }

  private event(alarm: ActiveAlarm, event: AlarmEventType, nowMs: number, message = alarm.message): AlarmEvent {
    const out: AlarmEvent = {
      t: Math.max(0, Math.round(this.wallClock(nowMs))),
      mono: Math.max(0, Math.round(nowMs)),
      alarmId: alarm.alarmId,
      rule: alarm.rule,
      event,
      kind: alarm.kind,
      priority: alarm.priority,
      value: alarm.value,
      message: message.slice(0, 200),
    };
    if (alarm.limit !== undefined) out.limit = alarm.limit;
    if (alarm.unit !== undefined) out.unit = alarm.unit;
    return out;
  }
}

function isEstimate(e: VitalsEstimate): boolean {
  const nullableFinite = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.sqi === 'number' &&
    e.sqi >= 0 &&
    e.sqi <= 1 &&
    nullableFinite(e.hr) &&
    nullableFinite(e.spo2) &&
    Array.isArray(e.reasons)
  );
}
