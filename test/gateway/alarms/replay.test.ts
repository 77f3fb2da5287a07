import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadScenarioFile, renderSynthetic, SyntheticSource } from '../../../firmware-bridge/index.ts';
import { replayRecording } from '../../../gateway/alarms/replay.ts';
import { validate } from '../../../protocol/codec.ts';
import { DEFAULT_LIMITS } from '../../../protocol/limits.ts';
import type { AlarmEvent } from '../../../protocol/schemas.ts';

const SCENARIOS = join(import.meta.dirname, '../../../firmware-bridge/scenarios');

/** First instant (0.05 s steps) at which the scenario's truth meets `predicate`. */
function firstTrue(source: SyntheticSource, from: number, to: number, predicate: (t: { hrBpm: number; spo2: number }) => boolean): number {
  for (let t = from; t <= to; t += 0.05) if (predicate(source.truthAt(t))) return t;
  throw new Error('never true');
}

describe('replay: signal pipeline and alarm engine on the emulator scenarios', () => {
  it('alarms a desaturation within its condition delay + 1 s of the true crossing; the nurse acknowledges; it clears on recovery', () => {
    const scenario = loadScenarioFile(join(SCENARIOS, 'desaturation.json'));
    const recording = renderSynthetic(scenario, { rateHz: 100, durationS: 240 });
    const truth = new SyntheticSource(scenario);
    const { events } = replayRecording(recording, { acknowledgeAfterS: 30 });
    const raised = (rule: string) => events.find((e) => e.rule === rule && e.event === 'raised');
    const low = raised('spo2-low');
    assert.ok(low, `events: ${events.map((e) => `${e.rule}:${e.event}`).join(' ')}`);
    const crossLow = firstTrue(truth, 55, 120, (t) => t.spo2 < 90);
    assert.ok(
      low.mono / 1000 - crossLow <= DEFAULT_LIMITS['spo2-low'].delayS + 1,
      `spo2-low ${low.mono / 1000 - crossLow} s after the crossing`,
    );
    const desat = raised('spo2-desat');
    assert.ok(desat);
    const crossDesat = firstTrue(truth, 55, 120, (t) => t.spo2 <= 93);
    assert.ok(desat.mono / 1000 - crossDesat <= DEFAULT_LIMITS['spo2-desat'].delayS + 1, `desat ${desat.mono / 1000 - crossDesat} s after`);
    for (const e of events.filter((x) => x.event === 'raised')) {
      assert.ok(
        events.some((x) => x.alarmId === e.alarmId && x.event === 'acknowledged' && x.mono - e.mono === 30_000),
        `${e.rule} acknowledged 30 s later`,
      );
      assert.ok(
        events.some((x) => x.alarmId === e.alarmId && x.event === 'cleared'),
        `${e.rule} cleared after recovery`,
      );
    }
    assert.deepEqual(
      events.filter((e) => e.kind === 'technical'),
      [],
    );
    const checked = validate('alarms', {
      v: 1,
      type: 'alarms',
      msgId: 'replay-0001',
      gatewayId: 'gw-bed-01',
      seq: 0,
      clock: { quality: 'unsynced', bootId: 'replay' },
      events,
    });
    assert.ok(checked.ok, checked.ok ? '' : checked.reason);
  });

  for (const [name, checks] of [
    [
      'bradycardia',
      [
        ['hr-low-severe', (t: { hrBpm: number }) => t.hrBpm < 40],
        ['hr-low', (t: { hrBpm: number }) => t.hrBpm < 50],
      ],
    ],
    [
      'tachycardia',
      [
        ['hr-high-severe', (t: { hrBpm: number }) => t.hrBpm > 140],
        ['hr-high', (t: { hrBpm: number }) => t.hrBpm > 120],
      ],
    ],
  ] as const) {
    it(`alarms ${name} within each rule's condition delay + 1 s of the true crossing`, () => {
      const scenario = loadScenarioFile(join(SCENARIOS, `${name}.json`));
      const truth = new SyntheticSource(scenario);
      const { events } = replayRecording(renderSynthetic(scenario, { rateHz: 100, durationS: 150 }));
      for (const [rule, beyond] of checks) {
        const raised = events.find((e) => e.rule === rule && e.event === 'raised');
        assert.ok(raised, `${rule} raised`);
        const late = raised.mono / 1000 - firstTrue(truth, 55, 150, (t) => beyond(t));
        assert.ok(late <= DEFAULT_LIMITS[rule].delayS + 1, `${rule} ${late.toFixed(2)} s after the crossing`);
      }
      assert.deepEqual(
        events.filter((e) => e.kind === 'technical'),
        [],
      );
    });
  }

  it('raises sensor-off, and nothing physiological, when the finger leaves and comes back', () => {
    const scenario = loadScenarioFile(join(SCENARIOS, 'finger-off.json'));
    const { events } = replayRecording(renderSynthetic(scenario, { rateHz: 100, durationS: 150 }));
    assert.deepEqual(
      events.map((e) => [e.rule, e.event]),
      [
        ['sensor-off', 'raised'],
        ['sensor-off', 'cleared'],
      ],
    );
    const [raised, cleared] = events as [AlarmEvent, AlarmEvent];
    assert.ok(raised.mono > 60_000 && raised.mono <= 60_000 + 20_000, `raised at ${raised.mono} ms, finger out at 60 s`);
    assert.ok(cleared.mono > 90_000, `cleared at ${cleared.mono} ms, finger back at 90 s`);
  });

  it('raises no physiological alarm for a stable patient with motion bursts', () => {
    const scenario = loadScenarioFile(join(SCENARIOS, 'motion.json'));
    const { events } = replayRecording(renderSynthetic(scenario, { rateHz: 100, durationS: 360 }));
    assert.deepEqual(
      events.filter((e) => e.kind === 'physiological'),
      [],
    );
  });
});
