/**
 * Measurement and tag design, and the mapping from stored records to line
 * protocol. Escaping is the client library's (`Point`, `escape`), for both write paths.
 *
 * Tags are what a point is looked up by and what makes it unique: InfluxDB
 * keeps one point per measurement + tag set + timestamp, which is how a
 * replayed reading overwrites itself instead of doubling.
 *   reading:     tags gateway_id, patient_id;            fields hr, spo2, pi, sqi, clock_quality
 *   alarm_event: tags gateway_id, patient_id, rule, event; fields alarm_id, mono, kind, priority,
 *                value, limit_value, unit, message
 * Nulls are left out of the line (InfluxDB has no null field value) and read
 * back as null/absent.
 */
import { escape as lineEscape, Point } from '@influxdata/influxdb-client';
import type { StoredAlarmEvent, StoredReading } from '../history-store.ts';

export const MEASUREMENTS = { reading: 'reading', alarmEvent: 'alarm_event' } as const;

export function readingPoint(r: StoredReading): Point {
  const point = new Point(MEASUREMENTS.reading)
    .tag('gateway_id', r.gatewayId)
    .tag('patient_id', r.patientId)
    .floatField('sqi', r.sqi)
    .stringField('clock_quality', r.clockQuality)
    .timestamp(r.t);
  if (r.hr !== null) point.floatField('hr', r.hr);
  if (r.spo2 !== null) point.floatField('spo2', r.spo2);
  if (r.pi !== null) point.floatField('pi', r.pi);
  return point;
}

/**
 * A reading's line without building a Point: the drainer writes thousands a
 * second, and Point sorts its keys and allocates per call. The bytes are the
 * same as `readingPoint(r).toLineProtocol()` (test/cloud-relay/store/influx/points.test.ts
 * compares them), keys in the order Point sorts them into, escaping by the
 * library's own `escape`.
 */
export function readingLine(r: StoredReading): string {
  let fields = `clock_quality=${lineEscape.quoted(r.clockQuality)}`;
  if (r.hr !== null) fields += `,hr=${finite('hr', r.hr)}`;
  if (r.pi !== null) fields += `,pi=${finite('pi', r.pi)}`;
  if (r.spo2 !== null) fields += `,spo2=${finite('spo2', r.spo2)}`;
  fields += `,sqi=${finite('sqi', r.sqi)}`;
  return `${MEASUREMENTS.reading}${tag('gateway_id', r.gatewayId)}${tag('patient_id', r.patientId)} ${fields} ${Math.floor(r.t)}`;
}

/** As Point.tag: an empty value leaves the tag out. */
function tag(key: string, value: string): string {
  return value ? `,${key}=${lineEscape.tag(value)}` : '';
}

/** As Point.floatField: a value that is not finite cannot be written. */
function finite(key: string, value: number): string {
  if (!Number.isFinite(value)) throw new Error(`invalid float value for field '${key}': ${value}`);
  return String(value);
}

export function alarmEventPoint(e: StoredAlarmEvent): Point {
  const point = new Point(MEASUREMENTS.alarmEvent)
    .tag('gateway_id', e.gatewayId)
    .tag('patient_id', e.patientId)
    .tag('rule', e.rule)
    .tag('event', e.event)
    .stringField('alarm_id', e.alarmId)
    .intField('mono', e.mono)
    .stringField('kind', e.kind)
    .stringField('priority', e.priority)
    .stringField('message', e.message)
    .timestamp(e.t);
  if (e.value !== undefined && e.value !== null) point.floatField('value', e.value);
  if (e.limit !== undefined) point.floatField('limit_value', e.limit);
  if (e.unit !== undefined) point.stringField('unit', e.unit);
  return point;
}

/**
 * Line protocol for a batch, timestamps in ms (`precision=ms` on the write).
 * Throws on a record that cannot be expressed (a non-finite number): the
 * whole batch is refused rather than written with a hole in it.
 */
export function toLines<T>(records: readonly T[], toPoint: (record: T) => Point | string): string[] {
  return records.map((record) => {
    const point = toPoint(record);
    const line = typeof point === 'string' ? point : point.toLineProtocol();
    // Unreachable while every point carries a field; a silent drop would lose data.
    if (line === undefined) throw new Error('a point without fields has no line protocol');
    return line;
  });
}
