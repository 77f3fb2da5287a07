import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Biquad, Ring } from '../../../gateway/signal/filters.ts';

/** Steady-state amplitude of a filter's response to a unit sine. */
function gainAt(make: () => Biquad, f: number, fs: number): number {
  const q = make();
  let peak = 0;
  const n = Math.round(fs * 40);
  for (let i = 0; i < n; i++) {
    const y = q.step(Math.sin((2 * Math.PI * f * i) / fs));
    if (i > n / 2) peak = Math.max(peak, Math.abs(y));
  }
  return peak;
}

describe('Biquad', () => {
  for (const fs of [25, 100, 400]) {
    it(`low-pass at ${fs} Hz: -3 dB at the cut-off, flat below, attenuating above`, () => {
      const lp = () => Biquad.lowpass(5, fs);
      assert.ok(Math.abs(gainAt(lp, 5, fs) - Math.SQRT1_2) < 0.02);
      assert.ok(Math.abs(gainAt(lp, 1, fs) - 1) < 0.03);
      assert.ok(gainAt(lp, 10, fs) < 0.3);
    });
    it(`high-pass at ${fs} Hz: passes the pulse band, removes drift`, () => {
      const hp = () => Biquad.highpass(0.5, fs);
      assert.ok(Math.abs(gainAt(hp, 0.5, fs) - Math.SQRT1_2) < 0.02);
      assert.ok(gainAt(hp, 2, fs) > 0.97);
      assert.ok(gainAt(hp, 0.1, fs) < 0.05);
    });
  }

  it('settle() starts a stream in steady state: no step response', () => {
    const hp = Biquad.highpass(0.5, 50);
    hp.settle(1000);
    assert.ok(Math.abs(hp.step(1000)) < 1e-9);
    const lp = Biquad.lowpass(5, 50);
    lp.settle(-3.5);
    assert.ok(Math.abs(lp.step(-3.5) + 3.5) < 1e-9);
  });

  it('rejects a cut-off at or above Nyquist', () => {
    assert.throws(() => Biquad.lowpass(13, 25), RangeError);
  });
});

describe('Ring', () => {
  it('keeps the newest samples and copies them oldest first', () => {
    const r = new Ring(4);
    for (let i = 1; i <= 6; i++) r.push(i);
    const out = new Float64Array(4);
    assert.equal(r.copyLatest(4, out), 4);
    assert.deepEqual(Array.from(out), [3, 4, 5, 6]);
    assert.equal(r.copyLatest(2, out), 2);
    assert.deepEqual(Array.from(out.subarray(0, 2)), [5, 6]);
    r.clear();
    assert.equal(r.length, 0);
  });
});
