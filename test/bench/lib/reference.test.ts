import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beatsFromRr, periodogramPeakBpm, rateAt } from './reference.ts';

describe('reference rates for the benchmarks', () => {
  it('rateAt: mean rate of the beats inside the window, NaN with fewer than three', () => {
    const beats = beatsFromRr([1000, 1000, 750, 750, 750], 0);
    assert.equal(rateAt(beats, 2, 8), 60);
    assert.equal(rateAt(beats, 4.25, 2), 80);
    assert.ok(Number.isNaN(rateAt(beats, 1, 8)));
  });

  it('periodogramPeakBpm: the rate of a pulse with its harmonic, not the harmonic, and only inside the window', () => {
    const fs = 30;
    const x = new Float64Array(40 * fs);
    for (let i = 0; i < x.length; i++) {
      const bpm = i < 20 * fs ? 72 : 150;
      const ph = (2 * Math.PI * bpm * i) / 60 / fs;
      x[i] = Math.sin(ph) + 0.4 * Math.sin(2 * ph);
    }
    assert.ok(Math.abs(periodogramPeakBpm(x, fs, 18, 8) - 72) < 1);
    assert.ok(Math.abs(periodogramPeakBpm(x, fs, 40, 8) - 150) < 1);
    assert.ok(Number.isNaN(periodogramPeakBpm(x, fs, 0.1, 8)));
  });
});
