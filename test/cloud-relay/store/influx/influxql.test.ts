import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HistoryStoreError } from '../../../../cloud-relay/store/history-store.ts';
import { influxQlString, rowToAlarmEvent, rowToReading, selectStatement } from '../../../../cloud-relay/store/influx/influxql.ts';

describe('InfluxQL reads', () => {
  it('quotes a string literal so it cannot end the statement early', () => {
    assert.equal(influxQlString("P-1' OR '1'='1"), "'P-1\\' OR \\'1\\'=\\'1'");
    assert.equal(influxQlString('a\\'), "'a\\\\'");
  });

  it('selects one patient in a half-open window, oldest first, limited', () => {
    assert.equal(
      selectStatement('reading', { patientId: 'P-7', fromMs: 1000, toMs: 2000, limit: 5 }, 'vigil'),
      `SELECT * FROM "reading" WHERE "patient_id" = 'P-7' AND time >= 1000ms AND time < 2000ms ORDER BY time ASC LIMIT 5`,
    );
    assert.equal(
      selectStatement('reading', { patientId: 'P-7', fromMs: 1000, toMs: 2000 }, 'vigil', 'week'),
      `SELECT * FROM "vigil"."week"."reading" WHERE "patient_id" = 'P-7' AND time >= 1000ms AND time < 2000ms ORDER BY time ASC LIMIT 10000`,
    );
  });

  it('refuses a window that is not whole milliseconds', () => {
    assert.throws(() => selectStatement('reading', { patientId: 'P', fromMs: 1.5, toMs: 2 }, 'vigil'), HistoryStoreError);
  });

  it('maps rows back, absent fields as null, and rejects rows of another shape', () => {
    const row = { time: 5, gateway_id: 'gw-a', patient_id: 'P', clock_quality: 'synced', sqi: 0.5, hr: null, spo2: 98, pi: null };
    assert.deepEqual(rowToReading(row), {
      gatewayId: 'gw-a',
      patientId: 'P',
      t: 5,
      clockQuality: 'synced',
      hr: null,
      spo2: 98,
      pi: null,
      sqi: 0.5,
    });
    assert.equal(rowToReading({ ...row, sqi: null }), null);
    assert.equal(rowToReading({ ...row, hr: 'high' }), null);
    assert.equal(rowToReading({ ...row, clock_quality: 'maybe' }), null);
    const event = {
      time: 5,
      gateway_id: 'gw-a',
      patient_id: 'P',
      rule: 'spo2-low',
      event: 'raised',
      alarm_id: 'alarm-0000000001',
      mono: 9,
      kind: 'physiological',
      priority: 'high',
      message: 'low',
      value: null,
      limit_value: 90,
      unit: null,
    };
    assert.deepEqual(rowToAlarmEvent(event), {
      gatewayId: 'gw-a',
      patientId: 'P',
      t: 5,
      mono: 9,
      alarmId: 'alarm-0000000001',
      rule: 'spo2-low',
      event: 'raised',
      kind: 'physiological',
      priority: 'high',
      message: 'low',
      limit: 90,
    });
    assert.equal(rowToAlarmEvent({ ...event, priority: 'urgent' }), null);
    assert.equal(rowToAlarmEvent({ ...event, mono: '9' }), null);
  });
});
