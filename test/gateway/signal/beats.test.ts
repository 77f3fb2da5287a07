import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocBeats,
  detectBeats,
  dominantPeriod,
  median,
  resolveAlternans,
  rhythmFromBeats,
  select,
  templateCorrelation,
} from '../../../gateway/signal/beats.ts';

const FS = 50;

/** Band-limited pulse train: systolic peak then a dicrotic wave, beats at the given times (s). */
function pulseTrain(beatTimes: number[], seconds: number, amps?: number[]): Float64Array {
  const x = new Float64Array(seconds * FS);
  beatTimes.forEach((t0, b) => {
    const a = amps ? amps[b % amps.length]! : 1;
    for (let i = 0; i < x.length; i++) {
      const t = i / FS - t0;
      x[i]! += a * (Math.exp(-0.5 * (t / 0.07) ** 2) + 0.45 * Math.exp(-0.5 * ((t - 0.3) / 0.08) ** 2));
    }
  });
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  for (let i = 0; i < x.length; i++) x[i]! -= m;
  return x;
}
const regular = (bpm: number, seconds: number) =>
  Array.from({ length: Math.ceil((seconds * bpm) / 60) + 1 }, (_, k) => 0.2 + (k * 60) / bpm);

describe('dominantPeriod', () => {
  for (const bpm of [30, 60, 100, 180, 240]) {
    it(`finds ${bpm} bpm, dicrotic wave and all`, () => {
      const x = pulseTrain(regular(bpm, 8), 8);
      const acf = new Float64Array(FS * 2 + 4);
      const p = dominantPeriod(x, x.length, FS, acf);
      assert.ok(p, 'a period');
      assert.ok(Math.abs((60 * FS) / p.lag - bpm) < 0.02 * bpm, `got ${((60 * FS) / p.lag).toFixed(1)}`);
      assert.ok(p.strength > 0.8);
    });
  }

  it('finds no rhythm in silence', () => {
    assert.equal(dominantPeriod(new Float64Array(400), 400, FS, new Float64Array(110)), null);
  });
});

describe('resolveAlternans', () => {
  it('reads strongly alternating beats at the true rate, not half of it', () => {
    const x = pulseTrain(regular(90, 8), 8, [1, 0.35]);
    const acf = new Float64Array(110);
    const p = dominantPeriod(x, x.length, FS, acf)!;
    const beats = allocBeats(64);
    const scratch = new Float64Array(400);
    const r = resolveAlternans(x, x.length, p, acf, beats, scratch, FS);
    assert.ok(Math.abs((60 * FS) / r.lag - 90) < 2, `got ${((60 * FS) / r.lag).toFixed(1)} bpm`);
  });
});

describe('detectBeats and rhythmFromBeats', () => {
  it('one beat per cycle, the dicrotic wave is not a beat', () => {
    const x = pulseTrain(regular(75, 8), 8);
    const beats = allocBeats(64);
    const n = detectBeats(x, x.length, (60 * FS) / 75, beats, new Float64Array(400));
    assert.ok(n >= 8 && n <= 10, `${n} beats`);
    const rhythm = rhythmFromBeats(beats, 0, new Float64Array(64));
    assert.ok(Math.abs((60 * FS) / rhythm.interval - 75) < 0.5);
    assert.equal(rhythm.regularity, 1);
  });

  it('an ectopic beat and its pause do not move the rate', () => {
    const times = regular(60, 10);
    times[5] = times[5]! - 0.35; // premature beat, followed by a compensatory pause
    const x = pulseTrain(times, 10);
    const beats = allocBeats(64);
    detectBeats(x, x.length, FS, beats, new Float64Array(500));
    const rhythm = rhythmFromBeats(beats, 0, new Float64Array(64));
    assert.ok(Math.abs((60 * FS) / rhythm.interval - 60) < 0.5, `got ${((60 * FS) / rhythm.interval).toFixed(1)}`);
    assert.ok(rhythm.regularity < 1 && rhythm.regularity >= 0.7);
  });

  it('template correlation is near 1 for a clean train and low for noise', () => {
    const x = pulseTrain(regular(70, 8), 8);
    const beats = allocBeats(64);
    const period = (60 * FS) / 70;
    detectBeats(x, x.length, period, beats, new Float64Array(400));
    assert.ok(templateCorrelation(x, x.length, beats, period, new Float64Array(104)) > 0.98);
    let s = 7;
    const noise = x.map(() => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647 - 0.5;
    });
    detectBeats(noise, noise.length, period, beats, new Float64Array(400));
    assert.ok(templateCorrelation(noise, noise.length, beats, period, new Float64Array(104)) < 0.6);
  });
});

describe('median', () => {
  it('handles odd, even and repeated values', () => {
    assert.equal(median(Float64Array.from([5, 1, 3]), 3), 3);
    assert.equal(median(Float64Array.from([4, 1, 3, 2]), 4), 2.5);
    assert.equal(median(Float64Array.from([2, 2, 2, 9, 2]), 5), 2);
    assert.ok(Number.isNaN(median(new Float64Array(0), 0)));
  });

  it('select: the k-th smallest of the first n values, whatever lies beyond them', () => {
    const v = Float64Array.from([9, 4, 7, 1, 8, 2, 100, -5]);
    const sorted = [1, 2, 4, 7, 8, 9];
    for (let k = 0; k < 6; k++) assert.equal(select(Float64Array.from(v), 6, k), sorted[k]);
  });
});
