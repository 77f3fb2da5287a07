import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, encode } from '../../protocol/codec.ts';
import { newId } from '../../protocol/ids.ts';
import { PAYLOAD_LIMITS, VITALS_UNITS, type VitalsMessage } from '../../protocol/schemas.ts';
import { parseTopic, topicFor } from '../../protocol/topics.ts';

function vitals(overrides: Partial<VitalsMessage> = {}): VitalsMessage {
  return {
    v: 1,
    type: 'vitals',
    msgId: newId(),
    gatewayId: 'gw-bed-01',
    seq: 7,
    clock: { quality: 'synced', bootId: 'boot-1' },
    units: { ...VITALS_UNITS },
    readings: [{ t: 1_763_000_000_000, mono: 12_000, hr: 72, spo2: 97, pi: 2.1, sqi: 0.93, reasons: [] }],
    ...overrides,
  };
}

function rejectReason(kind: 'vitals' | 'alarms' | 'status' | 'config' | 'config-ack', value: unknown): string {
  const result = decode(kind, JSON.stringify(value));
  assert.equal(result.ok, false, 'expected a rejection');
  return result.ok ? '' : result.reason;
}

describe('wire contract v1: vitals', () => {
  it('accepts a valid message, batches of readings and null values with reasons', () => {
    const message = vitals({
      readings: [
        { t: 1_763_000_000_000, mono: 12_000, hr: 72, spo2: 97, pi: 2.1, sqi: 0.93, reasons: [] },
        { t: 1_763_000_001_000, mono: 13_000, hr: null, spo2: null, pi: null, sqi: 0.1, reasons: ['motion'] },
      ],
    });
    const result = decode('vitals', encode('vitals', message));
    assert.ok(result.ok);
    assert.deepEqual(result.value, message);
  });

  it('names the field when a value is out of range', () => {
    const bad = vitals();
    (bad.readings[0] as { hr: number }).hr = 900;
    assert.match(rejectReason('vitals', bad), /\/readings\/0\/hr/);
  });

  it('refuses another schema version', () => {
    assert.match(rejectReason('vitals', { ...vitals(), v: 2 }), /\/v: must be 1/);
  });

  it('refuses units other than the contract says', () => {
    assert.match(rejectReason('vitals', { ...vitals(), units: { ...VITALS_UNITS, hr: 'bpm' } }), /\/units\/hr/);
  });

  it('refuses unknown properties, naming them', () => {
    assert.match(rejectReason('vitals', { ...vitals(), patientName: 'Jane' }), /unknown property "patientName"/);
  });

  it('refuses a message without readings or with a missing clock flag', () => {
    assert.match(rejectReason('vitals', { ...vitals(), readings: [] }), /\/readings/);
    const { clock: _clock, ...noClock } = vitals();
    assert.match(rejectReason('vitals', noClock), /clock/);
  });

  it('refuses unknown quality reasons and a bad gateway id', () => {
    const bad = vitals();
    (bad.readings[0] as { reasons: string[] }).reasons = ['bad-vibes'];
    assert.match(rejectReason('vitals', bad), /\/readings\/0\/reasons\/0/);
    assert.match(rejectReason('vitals', { ...vitals(), gatewayId: 'GW 1/#' }), /\/gatewayId/);
  });

  it('refuses oversized payloads before parsing them', () => {
    const huge = `{"pad":"${'x'.repeat(PAYLOAD_LIMITS.vitals)}"}`;
    const result = decode('vitals', huge);
    assert.equal(result.ok, false);
    assert.equal(result.ok ? '' : result.code, 'too-large');
  });

  it('refuses text that is not JSON', () => {
    const result = decode('vitals', Buffer.from('{"v":1,'));
    assert.equal(result.ok ? '' : result.code, 'not-json');
  });

  it('will not encode an invalid message', () => {
    assert.throws(() => encode('vitals', { ...vitals(), seq: -1 }), /refusing to encode an invalid vitals message: \/seq/);
  });
});

describe('wire contract v1: alarms, status, config', () => {
  const envelope = { v: 1, msgId: newId(), gatewayId: 'gw-bed-01', seq: 0, clock: { quality: 'unsynced', bootId: 'b' } } as const;
  const event = {
    t: 1_763_000_000_000,
    mono: 5,
    alarmId: newId(),
    rule: 'spo2-low',
    event: 'raised',
    kind: 'physiological',
    priority: 'high',
    value: 84,
    limit: 85,
    unit: '%',
    message: 'SpO2 low',
  } as const;

  it('accepts an alarm batch and refuses an unknown priority', () => {
    assert.ok(decode('alarms', JSON.stringify({ ...envelope, type: 'alarms', events: [event] })).ok);
    assert.match(rejectReason('alarms', { ...envelope, type: 'alarms', events: [{ ...event, priority: 'urgent' }] }), /priority/);
  });

  it('accepts a status and refuses an unknown state', () => {
    const status = { ...envelope, type: 'status', t: 1, state: 'online', software: 'vigil 0.1.0' };
    assert.ok(decode('status', JSON.stringify(status)).ok);
    assert.match(rejectReason('status', { ...status, state: 'sleepy' }), /\/state/);
  });

  it('accepts a config downlink and refuses one without a version', () => {
    const config = { v: 1, type: 'config', msgId: newId(), configVersion: 3, issuedAt: 1, limits: {} };
    assert.ok(decode('config', JSON.stringify(config)).ok);
    const { configVersion: _version, ...noVersion } = config;
    assert.match(rejectReason('config', noVersion), /configVersion/);
  });

  it('accepts a config-ack that carries the rejection reason', () => {
    const ack = { ...envelope, type: 'config-ack', t: 1, configVersion: 3, accepted: false, reason: 'hr-low: limit above hr-high' };
    assert.ok(decode('config-ack', JSON.stringify(ack)).ok);
  });
});

describe('topics', () => {
  it('round-trips a gateway topic and rejects anything outside the layout', () => {
    assert.deepEqual(parseTopic(topicFor('gw-bed-01', 'vitals')), { gatewayId: 'gw-bed-01', kind: 'vitals' });
    assert.equal(parseTopic('vigil/v1/gw/gw-bed-01/secrets'), null);
    assert.equal(parseTopic('vigil/v1/gw/+/vitals'), null);
    assert.equal(parseTopic('other/v1/gw/gw-bed-01/vitals'), null);
    assert.throws(() => topicFor('../x', 'vitals'), /invalid gateway id/);
  });
});
