import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlarmEngine } from '../../../gateway/alarms/engine.ts';
import type { VitalsEstimate } from '../../../gateway/alarms/vitals.ts';

const engine = () => new AlarmEngine({ wallClock: (m) => m, signalLatencyMs: 0 });

function feed(e: AlarmEngine, from: number, to: number, sample: Partial<VitalsEstimate> = {}) {
  const events = [];
  for (let t = from; t < to; t++) {
    events.push(...e.observeVitals({ t, hr: 72, spo2: 97, pi: 2, sqi: 0.9, reasons: [], ...sample }, t * 1000));
  }
  return events;
}

describe('alarm snapshot across a restart', () => {
  it('carries the active alarms over with their ids; they end as they would have', () => {
    const before = engine();
    feed(before, 0, 60);
    feed(before, 60, 80, { hr: 45, spo2: 80 });
    feed(before, 80, 85, { hr: 45 });
    const ids = new Map(before.active().map((a) => [a.rule, a.alarmId]));
    assert.deepEqual([...ids.keys()].sort(), ['hr-low', 'spo2-low-severe']);
    const saved = JSON.parse(JSON.stringify(before.snapshot()));

    // New boot: monotonic time starts again.
    const after = engine();
    assert.deepEqual(after.restore(saved, 1000), { ok: true, restored: 2 });
    assert.deepEqual(new Map(after.active().map((a) => [a.rule, a.alarmId])), ids);
    assert.equal(after.annunciation(1000).audio, 'high', 'the latched alarm still sounds');
    const events = feed(after, 1, 30);
    assert.deepEqual(
      events.map((e) => [e.rule, e.event, e.alarmId]),
      [['hr-low', 'cleared', ids.get('hr-low')]],
      'the medium alarm clears once the settled signal shows its condition gone; the latched one waits',
    );
    const ack = after.acknowledge('spo2-low-severe', 30_000);
    assert.ok(ack.ok);
    assert.deepEqual(
      ack.events.map((e) => [e.event, e.alarmId]),
      [
        ['acknowledged', ids.get('spo2-low-severe')],
        ['cleared', ids.get('spo2-low-severe')],
      ],
    );
  });

  it('refuses an invalid snapshot with a reason and restores nothing', () => {
    const e = engine();
    const bad = [
      null,
      { v: 2, alarms: [] },
      { v: 1, alarms: [{ alarmId: 'abcdefgh12', rule: 'no-such-rule' }] },
      {
        v: 1,
        alarms: [
          {
            alarmId: 'abcdefgh12',
            rule: 'hr-low',
            kind: 'physiological',
            priority: 'urgent',
            acknowledged: false,
            escalated: false,
            conditionPresent: true,
            value: 40,
            message: 'x',
          },
        ],
      },
    ];
    for (const snapshot of bad) {
      const result = e.restore(snapshot, 0);
      assert.equal(result.ok, false);
      assert.match((result as { reason: string }).reason, /^alarm snapshot /);
    }
    assert.equal(e.counters.rejectedInputs, bad.length);
    assert.deepEqual(e.active(), []);
  });
});
