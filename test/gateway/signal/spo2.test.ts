import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ratioOfRatios } from '../../../gateway/signal/spo2.ts';

describe('ratioOfRatios', () => {
  it('is the red/IR amplitude ratio of a shared pulse', () => {
    const n = 400;
    const ir = new Float64Array(n);
    const red = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ir[i] = 0.01 * Math.sin(i / 6) + 0.004 * Math.sin(i / 3);
      red[i] = 0.62 * ir[i]!;
    }
    const r = ratioOfRatios(red, ir, n);
    assert.ok(Math.abs(r.r - 0.62) < 1e-9);
    assert.ok(r.correlation > 0.999);
  });

  it('is not biased by noise on the red channel alone, and reports the loss of correlation', () => {
    const n = 2000;
    const ir = new Float64Array(n);
    const red = new Float64Array(n);
    let s = 3;
    for (let i = 0; i < n; i++) {
      s = (s * 16807) % 2147483647;
      ir[i] = 0.01 * Math.sin(i / 6);
      red[i] = 0.5 * ir[i]! + 0.004 * (s / 2147483647 - 0.5);
    }
    const r = ratioOfRatios(red, ir, n);
    assert.ok(Math.abs(r.r - 0.5) < 0.02, `R ${r.r}`);
    assert.ok(r.correlation < 0.99);
  });

  it('gives NaN and no correlation on a flat channel', () => {
    const r = ratioOfRatios(
      new Float64Array(100),
      Float64Array.from({ length: 100 }, (_, i) => Math.sin(i)),
      100,
    );
    assert.ok(Number.isNaN(r.r));
    assert.equal(r.correlation, 0);
  });
});
