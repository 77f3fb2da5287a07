import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActiveAlarms, MAX_ALARMS_PER_PATIENT } from '../../../cloud-relay/live/active-alarms.ts';
import type { AlarmEvent } from '../../../protocol/schemas.ts';
import { alarmEvent } from '../support/messages.ts';

const event = (alarmId: string, t: number, kind: AlarmEvent['event']): AlarmEvent => ({ ...alarmEvent(t, kind), alarmId });

test('an alarm is active from raised until cleared, shown with its newest event', () => {
  const alarms = new ActiveAlarms();
  alarms.record('p1', event('alarm-a001', 1000, 'raised'));
  alarms.record('p1', event('alarm-a001', 5000, 'escalated'));
  alarms.record('p1', event('alarm-b001', 3000, 'raised'));
  assert.deepEqual(
    alarms.active('p1').map((e) => [e.alarmId, e.event]),
    [
      ['alarm-b001', 'raised'],
      ['alarm-a001', 'escalated'],
    ],
  );
  alarms.record('p1', event('alarm-a001', 9000, 'cleared'));
  assert.deepEqual(
    alarms.active('p1').map((e) => e.alarmId),
    ['alarm-b001'],
  );
  assert.deepEqual(alarms.active('p2'), []);
});

test('a replayed older event does not bring a cleared alarm back', () => {
  const alarms = new ActiveAlarms();
  alarms.record('p1', event('alarm-a001', 9000, 'cleared'));
  assert.equal(alarms.record('p1', event('alarm-a001', 1000, 'raised')), false);
  assert.deepEqual(alarms.active('p1'), []);
});

test('cleared alarms are forgotten first when a patient has too many', () => {
  const alarms = new ActiveAlarms();
  alarms.record('p1', event('alarm-keep', 1, 'raised'));
  for (let i = 0; i < MAX_ALARMS_PER_PATIENT + 50; i++)
    alarms.record('p1', event(`alarm-${String(i).padStart(4, '0')}`, 10 + i, 'cleared'));
  assert.deepEqual(
    alarms.active('p1').map((e) => e.alarmId),
    ['alarm-keep'],
  );
});
