import { newId } from '../../../protocol/ids.ts';
import type { AlarmEvent, Reading } from '../../../protocol/schemas.ts';

export const T0 = 1_763_000_000_000;

export function reading(i: number, overrides: Partial<Reading> = {}): Reading {
  return { t: T0 + i * 1000, mono: 10_000 + i * 1000, hr: 60 + (i % 20), spo2: 95 + (i % 4), pi: 2.5, sqi: 0.9, reasons: [], ...overrides };
}

export function alarmEvent(i: number, overrides: Partial<AlarmEvent> = {}): AlarmEvent {
  return {
    t: T0 + i * 1000,
    mono: 10_000 + i * 1000,
    alarmId: newId(),
    rule: 'spo2-low',
    event: 'raised',
    kind: 'physiological',
    priority: 'high',
    value: 85,
    limit: 90,
    unit: '%',
    message: `SpO2 low ${i}`,
    ...overrides,
  };
}

export const silentLog = { info() {}, warn() {}, error() {} };

/** A log that keeps what it was told, for asserting that a failure was reported. */
export function recordingLog() {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    info: (obj: object, msg: string) => lines.push({ level: 'info', msg, obj }),
    warn: (obj: object, msg: string) => lines.push({ level: 'warn', msg, obj }),
    error: (obj: object, msg: string) => lines.push({ level: 'error', msg, obj }),
  };
}
