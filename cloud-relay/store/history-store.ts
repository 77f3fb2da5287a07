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

export interface StoredAlarmEvent extends AlarmEvent {
  gatewayId: string;
  patientId: string;
}

export interface ReadingQuery {
  patientId: string;
  fromMs: number;
  toMs: number;
  limit?: number;
}

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
