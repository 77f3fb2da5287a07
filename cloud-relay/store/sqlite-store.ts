/**
 * Embedded history store: one SQLite file (better-sqlite3, WAL), used when no
 * InfluxDB is configured so the relay runs with zero setup.
 *
 * Semantics shared with InfluxDB (see history-store.ts): a reading is keyed by
 * (gatewayId, t) and an alarm event by (gatewayId, rule, event, t), the same
 * identity InfluxDB gives a point through its tags and timestamp, so a replay
 * overwrites instead of duplicating. Each write call is one transaction; a
 * failure throws and nothing is retried here (the relay's spool retries).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AlarmEvent } from '../../protocol/schemas.ts';
import {
  DEFAULT_QUERY_LIMIT,
  type HistoryStore,
  HistoryStoreError,
  type ReadingQuery,
  type StoredAlarmEvent,
  type StoredReading,
} from './history-store.ts';

export interface SqliteHistoryStoreOptions {
  /** File path, or ':memory:' for a throw-away store. */
  path: string;
  /**
   * SQLite `synchronous` pragma. FULL (default) fsyncs the WAL on every commit,
   * so a reading the relay has acknowledged survives a power cut; NORMAL is
   * faster and survives a process crash only.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS reading (
  gateway_id    TEXT    NOT NULL,
  t             INTEGER NOT NULL,
  patient_id    TEXT    NOT NULL,
  clock_quality TEXT    NOT NULL,
  hr            REAL,
  spo2          REAL,
  pi            REAL,
  sqi           REAL    NOT NULL,
  PRIMARY KEY (gateway_id, t)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reading_by_patient ON reading (patient_id, t);

CREATE TABLE IF NOT EXISTS alarm_event (
  gateway_id  TEXT    NOT NULL,
  rule        TEXT    NOT NULL,
  event       TEXT    NOT NULL,
  t           INTEGER NOT NULL,
  patient_id  TEXT    NOT NULL,
  alarm_id    TEXT    NOT NULL,
  mono        INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  priority    TEXT    NOT NULL,
  value       REAL,
  limit_value REAL,
  unit        TEXT,
  message     TEXT    NOT NULL,
  PRIMARY KEY (gateway_id, rule, event, t)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alarm_event_by_patient ON alarm_event (patient_id, t);
`;

interface ReadingRow {
  gateway_id: string;
  t: number;
  patient_id: string;
  clock_quality: StoredReading['clockQuality'];
  hr: number | null;
  spo2: number | null;
  pi: number | null;
  sqi: number;
}

interface AlarmEventRow {
  gateway_id: string;
  rule: string;
  event: AlarmEvent['event'];
  t: number;
  patient_id: string;
  alarm_id: string;
  mono: number;
  kind: AlarmEvent['kind'];
  priority: AlarmEvent['priority'];
  value: number | null;
  limit_value: number | null;
  unit: string | null;
  message: string;
}

function toStoredReading(row: ReadingRow): StoredReading {
  return {
    gatewayId: row.gateway_id,
    patientId: row.patient_id,
    t: row.t,
    clockQuality: row.clock_quality,
    hr: row.hr,
    spo2: row.spo2,
    pi: row.pi,
    sqi: row.sqi,
  };
}

function toStoredAlarmEvent(row: AlarmEventRow): StoredAlarmEvent {
  const event: StoredAlarmEvent = {
    gatewayId: row.gateway_id,
    patientId: row.patient_id,
    t: row.t,
    mono: row.mono,
    alarmId: row.alarm_id,
    rule: row.rule,
    event: row.event,
    kind: row.kind,
    priority: row.priority,
    message: row.message,
  };
  if (row.value !== null) event.value = row.value;
  if (row.limit_value !== null) event.limit = row.limit_value;
  if (row.unit !== null) event.unit = row.unit;
  return event;
}

export class SqliteHistoryStore implements HistoryStore {
  readonly #db: Database.Database;
  readonly #insertReadings: (readings: readonly StoredReading[]) => void;
  readonly #insertAlarmEvents: (events: readonly StoredAlarmEvent[]) => void;
  readonly #selectReadings: Database.Statement<[string, number, number, number], ReadingRow>;
  readonly #selectAlarmEvents: Database.Statement<[string, number, number, number], AlarmEventRow>;
  #closed = false;

  constructor(options: SqliteHistoryStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    try {
      this.#db = new Database(options.path);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      this.#db.pragma('busy_timeout = 5000');
      this.#db.exec(SCHEMA);
    } catch (error) {
      throw new HistoryStoreError(`cannot open the SQLite history store at ${options.path}`, { cause: error });
    }

    // Upsert, not INSERT OR IGNORE: the last write of a point wins, as in InfluxDB.
    const upsertReading = this.#db.prepare<ReadingRow>(
      `INSERT INTO reading (gateway_id, t, patient_id, clock_quality, hr, spo2, pi, sqi)
       VALUES (@gateway_id, @t, @patient_id, @clock_quality, @hr, @spo2, @pi, @sqi)
       ON CONFLICT (gateway_id, t) DO UPDATE SET
         patient_id = excluded.patient_id, clock_quality = excluded.clock_quality,
         hr = excluded.hr, spo2 = excluded.spo2, pi = excluded.pi, sqi = excluded.sqi`,
    );
    const upsertAlarmEvent = this.#db.prepare<AlarmEventRow>(
      `INSERT INTO alarm_event (gateway_id, rule, event, t, patient_id, alarm_id, mono, kind, priority, value, limit_value, unit, message)
       VALUES (@gateway_id, @rule, @event, @t, @patient_id, @alarm_id, @mono, @kind, @priority, @value, @limit_value, @unit, @message)
       ON CONFLICT (gateway_id, rule, event, t) DO UPDATE SET
         patient_id = excluded.patient_id, alarm_id = excluded.alarm_id, mono = excluded.mono, kind = excluded.kind,
         priority = excluded.priority, value = excluded.value, limit_value = excluded.limit_value,
         unit = excluded.unit, message = excluded.message`,
    );
    this.#insertReadings = this.#db.transaction((readings: readonly StoredReading[]) => {
      for (const r of readings) {
        upsertReading.run({
          gateway_id: r.gatewayId,
          t: r.t,
          patient_id: r.patientId,
          clock_quality: r.clockQuality,
          hr: r.hr,
          spo2: r.spo2,
          pi: r.pi,
          sqi: r.sqi,
        });
      }
    });
    this.#insertAlarmEvents = this.#db.transaction((events: readonly StoredAlarmEvent[]) => {
      for (const e of events) {
        upsertAlarmEvent.run({
          gateway_id: e.gatewayId,
          rule: e.rule,
          event: e.event,
          t: e.t,
          patient_id: e.patientId,
          alarm_id: e.alarmId,
          mono: e.mono,
          kind: e.kind,
          priority: e.priority,
          value: e.value ?? null,
          limit_value: e.limit ?? null,
          unit: e.unit ?? null,
          message: e.message,
        });
      }
    });
    this.#selectReadings = this.#db.prepare(
      'SELECT * FROM reading WHERE patient_id = ? AND t >= ? AND t < ? ORDER BY t, gateway_id LIMIT ?',
    );
    this.#selectAlarmEvents = this.#db.prepare(
      'SELECT * FROM alarm_event WHERE patient_id = ? AND t >= ? AND t < ? ORDER BY t, gateway_id, rule, event LIMIT ?',
    );
  }

  async writeReadings(readings: readonly StoredReading[]): Promise<void> {
    if (readings.length === 0) return;
    this.#run('write readings', () => this.#insertReadings(readings));
  }

  async writeAlarmEvents(events: readonly StoredAlarmEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.#run('write alarm events', () => this.#insertAlarmEvents(events));
  }

  async queryReadings(query: ReadingQuery): Promise<StoredReading[]> {
    const rows = this.#run('query readings', () =>
      this.#selectReadings.all(query.patientId, query.fromMs, query.toMs, query.limit ?? DEFAULT_QUERY_LIMIT),
    );
    return rows.map(toStoredReading);
  }

  async queryAlarmEvents(query: ReadingQuery): Promise<StoredAlarmEvent[]> {
    const rows = this.#run('query alarm events', () =>
      this.#selectAlarmEvents.all(query.patientId, query.fromMs, query.toMs, query.limit ?? DEFAULT_QUERY_LIMIT),
    );
    return rows.map(toStoredAlarmEvent);
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      this.#db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #run<T>(what: string, action: () => T): T {
    if (this.#closed) throw new HistoryStoreError(`cannot ${what}: the SQLite history store is closed`);
    try {
      return action();
    } catch (error) {
      throw new HistoryStoreError(`SQLite history store failed to ${what}`, { cause: error });
    }
  }
}
