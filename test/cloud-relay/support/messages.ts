/** Valid wire messages for relay tests, built the way a gateway builds them. */
import { encode } from '../../../protocol/codec.ts';
import type { AlarmEvent, Reading } from '../../../protocol/schemas.ts';

let counter = 0;
const msgId = () => `msg${(counter++).toString().padStart(8, '0')}${Math.random().toString(36).slice(2, 8)}`;

export function reading(t: number, hr: number | null = 72, spo2: number | null = 97): Reading {
  return { t, mono: t % 1_000_000, hr, spo2, pi: 2.5, sqi: 0.9, reasons: [] };
}

export function vitals(gatewayId: string, seq: number, readings: Reading[], id = msgId()): Buffer {
  return encode('vitals', {
    v: 1,
    msgId: id,
    gatewayId,
    seq,
    clock: { quality: 'synced', bootId: 'boot-1' },
    type: 'vitals',
    units: { hr: '/min', spo2: '%', pi: '%', sqi: '1' },
    readings,
  });
}

export function alarmEvent(t: number, event: AlarmEvent['event'] = 'raised'): AlarmEvent {
  return {
    t,
    mono: t % 1_000_000,
    alarmId: 'alarm-0001',
    rule: 'spo2-low',
    event,
    kind: 'physiological',
    priority: 'high',
    value: 84,
    limit: 88,
    unit: '%',
    message: 'SpO2 low',
  };
}

export function alarms(gatewayId: string, seq: number, events: AlarmEvent[], id = msgId()): Buffer {
  return encode('alarms', { v: 1, msgId: id, gatewayId, seq, clock: { quality: 'synced', bootId: 'boot-1' }, type: 'alarms', events });
}

export function status(gatewayId: string, seq: number, state: 'online' | 'offline', t: number, id = msgId()): Buffer {
  return encode('status', {
    v: 1,
    msgId: id,
    gatewayId,
    seq,
    clock: { quality: 'synced', bootId: 'boot-1' },
    type: 'status',
    t,
    state,
    software: 'test',
  });
}
