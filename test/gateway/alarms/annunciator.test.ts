import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualClock } from '../../../firmware-bridge/clock.ts';
import type { BinaryValue, GpioOutput } from '../../../firmware-bridge/gpio.ts';
import { Annunciator, HIGH_AUDIO, HIGH_VISUAL, MEDIUM_AUDIO, MEDIUM_VISUAL, type Pattern } from '../../../gateway/alarms/annunciator.ts';

/** An output pin that records what was written and when. */
class RecordingPin implements GpioOutput {
  readonly writes: [atMs: number, value: BinaryValue][] = [];
  closed = false;
  failNext = false;
  constructor(private readonly clock: VirtualClock) {}
  async write(value: BinaryValue): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('EIO');
    }
    if (!this.closed) this.writes.push([this.clock.now(), value]);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  rising(from = 0, to = Number.POSITIVE_INFINITY): number[] {
    return this.writes.filter(([at, v]) => v === 1 && at >= from && at < to).map(([at]) => at);
  }
  get value(): BinaryValue {
    return this.writes.at(-1)?.[1] ?? 0;
  }
}

function rig() {
  const clock = new VirtualClock(10_000);
  const led = new RecordingPin(clock);
  const buzzer = new RecordingPin(clock);
  const errors: unknown[] = [];
  const annunciator = new Annunciator({ led, buzzer, clock, onError: (e) => errors.push(e) });
  return { clock, led, buzzer, annunciator, errors };
}

/** On-times and off-times of one period of a pulse pattern. */
function timing(p: Pattern) {
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i + 1 < p.steps.length; i++) {
    const [at, v] = p.steps[i]!;
    const next = p.steps[i + 1]![0];
    (v === 1 ? on : off).push(next - at);
  }
  return { on, off, pulses: p.steps.filter(([, v]) => v === 1).length };
}

describe('annunciator patterns (IEC 60601-1-8)', () => {
  it('high-priority burst: 10 pulses grouped 3+2, pause, 3+2, within the Table 3 ranges', () => {
    const { on, off, pulses } = timing(HIGH_AUDIO);
    assert.equal(pulses, 10);
    for (const w of on) assert.ok(w >= 75 && w <= 200, `pulse ${w} ms`);
    assert.deepEqual(off, [100, 100, 350, 100, 700, 100, 100, 350, 100]);
    assert.ok(HIGH_AUDIO.periodMs - HIGH_AUDIO.steps.at(-1)![0] >= 2500, 'interburst interval at least 2.5 s');
  });

  it('medium-priority burst: 3 pulses', () => {
    const { on, off, pulses } = timing(MEDIUM_AUDIO);
    assert.equal(pulses, 3);
    for (const w of [...on, ...off]) assert.ok(w >= 125 && w <= 250);
  });

  it('visual flashing frequencies and duty cycles by priority', () => {
    const hz = (p: Pattern) => 1000 / p.periodMs;
    const duty = (p: Pattern) => (p.steps[1]![0] - p.steps[0]![0]) / p.periodMs;
    assert.ok(hz(HIGH_VISUAL) >= 1.4 && hz(HIGH_VISUAL) <= 2.8);
    assert.ok(hz(MEDIUM_VISUAL) >= 0.4 && hz(MEDIUM_VISUAL) <= 0.8);
    for (const p of [HIGH_VISUAL, MEDIUM_VISUAL]) assert.ok(duty(p) >= 0.2 && duty(p) <= 0.6);
  });
});

describe('annunciator on GPIO', () => {
  it('plays the high pattern: LED at 2 Hz, buzzer 10 pulses per burst, repeating', async () => {
    const { clock, led, buzzer, annunciator } = rig();
    annunciator.show({ visual: 'high', audio: 'high' });
    await clock.advance(16_000);
    assert.equal(led.rising(10_000, 18_000).length, 16, '2 Hz over 8 s');
    assert.equal(buzzer.rising(10_000, 18_000).length, 10);
    assert.equal(buzzer.rising(18_000, 26_000).length, 10, 'next burst');
    assert.deepEqual(buzzer.rising(10_000, 11_500), [10_000, 10_250, 10_500, 11_000, 11_250]);
    await annunciator.close();
  });

  it('plays the medium pattern: slower LED, 3-pulse bursts', async () => {
    const { clock, led, buzzer, annunciator } = rig();
    annunciator.show({ visual: 'medium', audio: 'medium' });
    await clock.advance(30_000);
    assert.deepEqual(led.rising(10_000, 15_000), [10_000, 11_600, 13_200, 14_800]);
    assert.deepEqual(buzzer.rising(10_000, 40_000), [10_000, 10_400, 10_800, 25_000, 25_400, 25_800]);
    await annunciator.close();
  });

  it('low priority: LED steady on, buzzer quiet', async () => {
    const { clock, led, buzzer, annunciator } = rig();
    annunciator.show({ visual: 'low', audio: 'low' });
    await clock.advance(60_000);
    assert.deepEqual(led.writes, [[10_000, 1]]);
    assert.deepEqual(buzzer.rising(), []);
    await annunciator.close();
  });

  it('switches pattern at once when the priority changes, and silences the buzzer on acknowledge', async () => {
    const { clock, led, buzzer, annunciator } = rig();
    annunciator.show({ visual: 'medium', audio: 'medium' });
    await clock.advance(1000);
    annunciator.show({ visual: 'high', audio: 'high' });
    assert.equal(buzzer.value, 1, 'high burst starts immediately');
    await clock.advance(4000);
    annunciator.show({ visual: 'high', audio: null });
    assert.equal(buzzer.value, 0);
    const ledBefore = led.rising().length;
    const buzzerBefore = buzzer.rising().length;
    await clock.advance(8000);
    assert.equal(buzzer.rising().length, buzzerBefore, 'silent after acknowledge');
    assert.equal(led.rising().length - ledBefore, 16, 'the light keeps flashing');
    annunciator.show({ visual: null, audio: null });
    assert.equal(led.value, 0);
    await clock.advance(5000);
    assert.equal(led.value, 0);
    assert.equal(clock.pending(), 0, 'no timers left running');
  });

  it('showing the same state again does not restart the rhythm', async () => {
    const { clock, buzzer, annunciator } = rig();
    annunciator.show({ visual: 'high', audio: 'high' });
    for (let i = 0; i < 8; i++) {
      await clock.advance(1000);
      annunciator.show({ visual: 'high', audio: 'high' });
    }
    assert.equal(buzzer.rising(10_000, 18_000).length, 10);
    await annunciator.close();
  });

  it('counts a failed GPIO write and keeps going; close turns everything off', async () => {
    const { clock, led, buzzer, annunciator, errors } = rig();
    led.failNext = true;
    annunciator.show({ visual: 'high', audio: 'high' });
    await clock.advance(1000);
    assert.equal(annunciator.writeErrors, 1);
    assert.match(String(errors[0]), /EIO/);
    assert.ok(led.rising().length >= 1);
    await annunciator.close();
    assert.equal(led.value, 0);
    assert.equal(buzzer.value, 0);
    assert.ok(led.closed && buzzer.closed);
    assert.equal(clock.pending(), 0);
  });
});
