/**
 * The relay's time-series history, behind one interface so InfluxDB and the
 * embedded SQLite store are interchangeable and pass one shared contract test.
 */
import type { AlarmEvent, ClockQuality } from '../../protocol/schemas.ts';

export interface StoredReading {
  gatewayId: string;
  patientId: string;
  /** Gateway wall clock, ms since 1970. */
  t: number;
  clockQuality: ClockQuality;
  hr: number | null;
  spo2: number | null;
  pi: number | null;
  sqi: number;
}

/**
 * An alarm event as stored. Its identity is (gatewayId, rule, event, t): a
 * replay overwrites. `value`, `limit` and `unit` come back only when they
 * carried a value (a null `value` reads back as absent).
 */
export interface StoredAlarmEvent extends AlarmEvent {
  gatewayId: string;
  patientId: string;
}

/** Points with fromMs <= t < toMs (gateway wall clock), oldest first. */
export interface ReadingQuery {
  patientId: string;
  fromMs: number;
  toMs: number;
  /** At most this many points, the oldest ones; DEFAULT_QUERY_LIMIT when absent. */
  limit?: number;
}

export const DEFAULT_QUERY_LIMIT = 10_000;

/**
 * Every store failure: the message says what failed, `cause` carries the
 * driver's error. `retryable` is false when sending the same batch again
 * cannot succeed (the backend refused its content, e.g. HTTP 400), so a
 * drainer can set it aside instead of retrying it forever.
 */
export class HistoryStoreError extends Error {
  override readonly name = 'HistoryStoreError';
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? true;
  }
}

/**
 * Stores throw a HistoryStoreError on failure and never retry internally: the
 * relay's spool drainer retries with backoff and is the durability boundary.
 * Each write call is one request or transaction, all or nothing as far as the
 * backend allows.
 */
export interface HistoryStore {
  /** Writing the same (gatewayId, t) twice keeps one point: replays are harmless. */
  writeReadings(readings: readonly StoredReading[]): Promise<void>;
  writeAlarmEvents(events: readonly StoredAlarmEvent[]): Promise<void>;
  /** Oldest first. */
  queryReadings(query: ReadingQuery): Promise<StoredReading[]>;
  queryAlarmEvents(query: ReadingQuery): Promise<StoredAlarmEvent[]>;
  /** True when the store accepts writes now. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
