import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../../../firmware-bridge/clock.ts';
import { MemoryGpioInput } from '../../../firmware-bridge/gpio-memory.ts';
import { AlarmButton, type ButtonAction } from '../../../gateway/alarms/button.ts';
import { AlarmEngine } from '../../../gateway/alarms/engine.ts';
import type { AlarmEvent } from '../../../protocol/schemas.ts';

/** An engine with a high (SpO2) and a medium (HR) alarm raised, on the clock's time. */
function rig() {
  const clock = new VirtualClock(0);
  const engine = new AlarmEngine({ wallClock: (m) => m, signalLatencyMs: 0 });
  for (let t = 0; t < 80; t++) {
    engine.observeVitals({ t, hr: t < 60 ? 72 : 45, spo2: t < 60 ? 97 : 80, pi: 2, sqi: 0.9, reasons: [] }, t * 1000);
  }
  const input = new MemoryGpioInput(1, 'both');
  const actions: [ButtonAction, AlarmEvent[]][] = [];
  const button = new AlarmButton({ input, clock, engine, now: () => 80_000 + clock.now(), onAction: (a, e) => actions.push([a, e]) });
  return { clock, engine, input, actions, button };
}

describe('bedside alarm button', () => {
  it('a short press acknowledges every active alarm', async () => {
    const { clock, engine, input, actions, button } = rig();
    assert.equal(engine.annunciation(80_000).audio, 'high');
    input.set(0);
    await clock.advance(300);
    input.set(1);
    await clock.advance(10);
    assert.equal(actions.length, 1);
    assert.equal(actions[0]![0], 'acknowledge');
    assert.deepEqual(actions[0]![1].map((e) => [e.rule, e.event]).sort(), [
      ['hr-low', 'acknowledged'],
      ['spo2-low-severe', 'acknowledged'],
    ]);
    assert.equal(engine.annunciation(81_000).audio, null);
    button.close();
  });

  it('a long press pauses the audio for 2 minutes, and the release does nothing more', async () => {
    const { clock, engine, input, actions, button } = rig();
    input.set(0);
    await clock.advance(2500);
    input.set(1);
    await clock.advance(10);
    assert.deepEqual(
      actions.map(([a, e]) => [a, e.length]),
      [['pause', 2]],
    );
    assert.equal(engine.annunciation(80_000 + 2600).audio, null);
    assert.equal(engine.annunciation(80_000 + 2000 + 120_000).audio, 'high', 'sounds again after 2 minutes');
    button.close();
    assert.equal(clock.pending(), 0);
  });

  it('ignores contact bounce', async () => {
    const { clock, input, actions, button } = rig();
    input.set(0);
    await clock.advance(5);
    input.set(1);
    await clock.advance(5);
    input.set(0);
    await clock.advance(400);
    input.set(1);
    await clock.advance(10);
    assert.deepEqual(
      actions.map(([a]) => a),
      ['acknowledge'],
    );
    button.close();
  });
});
