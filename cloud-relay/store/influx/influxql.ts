/**
 * Reads through InfluxQL on `/query`, which InfluxDB 1.x, 2.x (with a DBRP
 * mapping) and 3.x all serve. Rows are checked before they become records:
 * a row someone else wrote into our measurement with the wrong shape is
 * skipped and counted, never passed on as a confident number.
 */
import type { ClockQuality } from '../../../protocol/schemas.ts';
import { DEFAULT_QUERY_LIMIT, HistoryStoreError, type ReadingQuery, type StoredAlarmEvent, type StoredReading } from '../history-store.ts';
import { MEASUREMENTS } from './points.ts';
import { authorizationHeader, type InfluxConnection } from './write-api.ts';

/** The read half of a history store, so a test server without InfluxQL can bring its own. */
export interface HistoryReader {
  queryReadings(query: ReadingQuery): Promise<StoredReading[]>;
  queryAlarmEvents(query: ReadingQuery): Promise<StoredAlarmEvent[]>;
}

/** InfluxQL string literal: single quotes, with `\` and `'` escaped. */
export function influxQlString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** InfluxQL identifier: double quotes, with `\` and `"` escaped. */
export function influxQlIdentifier(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function safeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw new HistoryStoreError(`${name} must be an integer, got ${value}`, { retryable: false });
  return value;
}

export function selectStatement(measurement: string, query: ReadingQuery, database: string, retentionPolicy?: string): string {
  const from = retentionPolicy
    ? `${influxQlIdentifier(database)}.${influxQlIdentifier(retentionPolicy)}.${influxQlIdentifier(measurement)}`
    : influxQlIdentifier(measurement);
  const limit = safeInteger('limit', query.limit ?? DEFAULT_QUERY_LIMIT);
  return (
    `SELECT * FROM ${from} WHERE "patient_id" = ${influxQlString(query.patientId)}` +
    ` AND time >= ${safeInteger('fromMs', query.fromMs)}ms AND time < ${safeInteger('toMs', query.toMs)}ms` +
    ` ORDER BY time ASC LIMIT ${limit}`
  );
}

interface Series {
  columns: string[];
  values: unknown[][];
}

interface QueryResponse {
  results?: Array<{ error?: string; series?: Series[] }>;
  error?: string;
}

type Row = Record<string, unknown>;

function rowsOf(body: QueryResponse): Row[] {
  const rows: Row[] = [];
  for (const series of body.results?.[0]?.series ?? []) {
    for (const values of series.values) {
      const row: Row = {};
      series.columns.forEach((column, i) => {
        row[column] = values[i];
      });
      rows.push(row);
    }
  }
  return rows;
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const numberOrNull = (v: unknown): number | null | undefined => (v === null || v === undefined ? null : isNumber(v) ? v : undefined);
const CLOCK_QUALITIES: readonly ClockQuality[] = ['synced', 'unsynced'];
const EVENTS: readonly StoredAlarmEvent['event'][] = ['raised', 'escalated', 'acknowledged', 'paused', 'cleared'];
const KINDS: readonly StoredAlarmEvent['kind'][] = ['physiological', 'technical'];
const PRIORITIES: readonly StoredAlarmEvent['priority'][] = ['high', 'medium', 'low'];

export function rowToReading(row: Row): StoredReading | null {
  const { time, gateway_id, patient_id, clock_quality, sqi } = row;
  const hr = numberOrNull(row.hr);
  const spo2 = numberOrNull(row.spo2);
  const pi = numberOrNull(row.pi);
  if (!isNumber(time) || !isText(gateway_id) || !isText(patient_id) || !isNumber(sqi)) return null;
  if (!CLOCK_QUALITIES.includes(clock_quality as ClockQuality)) return null;
  if (hr === undefined || spo2 === undefined || pi === undefined) return null;
  return { gatewayId: gateway_id, patientId: patient_id, t: time, clockQuality: clock_quality as ClockQuality, hr, spo2, pi, sqi };
}

export function rowToAlarmEvent(row: Row): StoredAlarmEvent | null {
  const { time, gateway_id, patient_id, rule, event, alarm_id, mono, kind, priority, message, value, limit_value, unit } = row;
  if (!isNumber(time) || !isText(gateway_id) || !isText(patient_id) || !isText(rule) || !isText(alarm_id) || !isText(message)) return null;
  if (!isNumber(mono)) return null;
  if (!EVENTS.includes(event as StoredAlarmEvent['event'])) return null;
  if (!KINDS.includes(kind as StoredAlarmEvent['kind']) || !PRIORITIES.includes(priority as StoredAlarmEvent['priority'])) return null;
  const stored: StoredAlarmEvent = {
    gatewayId: gateway_id,
    patientId: patient_id,
    t: time,
    mono,
    alarmId: alarm_id,
    rule,
    event: event as StoredAlarmEvent['event'],
    kind: kind as StoredAlarmEvent['kind'],
    priority: priority as StoredAlarmEvent['priority'],
    message,
  };
  if (value !== null && value !== undefined) {
    if (!isNumber(value)) return null;
    stored.value = value;
  }
  if (limit_value !== null && limit_value !== undefined) {
    if (!isNumber(limit_value)) return null;
    stored.limit = limit_value;
  }
  if (unit !== null && unit !== undefined) {
    if (!isText(unit)) return null;
    stored.unit = unit;
  }
  return stored;
}

export class InfluxQlReader implements HistoryReader {
  /** Rows skipped because they did not have the shape this store writes. */
  malformedRows = 0;
  readonly #connection: InfluxConnection;
  readonly #headers: Record<string, string>;

  constructor(connection: InfluxConnection) {
    this.#connection = connection;
    const auth = authorizationHeader(connection);
    this.#headers = auth ? { authorization: auth } : {};
  }

  async queryReadings(query: ReadingQuery): Promise<StoredReading[]> {
    return this.#select(MEASUREMENTS.reading, query, rowToReading);
  }

  async queryAlarmEvents(query: ReadingQuery): Promise<StoredAlarmEvent[]> {
    return this.#select(MEASUREMENTS.alarmEvent, query, rowToAlarmEvent);
  }

  async #select<T>(measurement: string, query: ReadingQuery, map: (row: Row) => T | null): Promise<T[]> {
    const { database, retentionPolicy } = this.#connection;
    const params = new URLSearchParams({ db: database, epoch: 'ms', q: selectStatement(measurement, query, database, retentionPolicy) });
    if (retentionPolicy) params.set('rp', retentionPolicy);
    let response: Response;
    let body: QueryResponse;
    try {
      response = await fetch(`${this.#connection.url}/query?${params}`, {
        headers: this.#headers,
        signal: AbortSignal.timeout(this.#connection.timeoutMs),
      });
      body = (await response.json()) as QueryResponse;
    } catch (error) {
      throw new HistoryStoreError(`InfluxDB /query failed: ${(error as Error).message}`, { cause: error });
    }
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!response.ok || error) {
      throw new HistoryStoreError(`InfluxDB /query answered ${response.status}: ${error ?? 'no error text'}`, {
        retryable: response.status === 429 || response.status >= 500,
      });
    }
    const records: T[] = [];
    for (const row of rowsOf(body)) {
      const record = map(row);
      if (record === null) this.malformedRows++;
      else records.push(record);
    }
    return records;
  }
}
