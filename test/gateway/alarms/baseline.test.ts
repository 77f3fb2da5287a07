import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { madOfSorted, median, RollingBaseline } from '../../../gateway/alarms/baseline.ts';
import { prng } from '../../fixtures/alarms/ppg.ts';

function bruteForce(values: number[]): { median: number; mad: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const m = median(sorted);
  return { median: m, mad: median(sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b)) };
}

describe('rolling median/MAD baseline', () => {
  it('computes the MAD of a sorted array', () => {
    assert.equal(madOfSorted([1, 1, 2, 2, 4, 6, 9]), 1);
    assert.equal(madOfSorted([1, 2, 3, 4]), 1);
    assert.equal(madOfSorted([5]), 0);
    assert.ok(Number.isNaN(madOfSorted([])));
  });

  it('matches a brute-force median and MAD over the lagged window, sample by sample', () => {
    const random = prng(7);
    const windowMs = 60_000;
    const lagMs = 10_000;
    const baseline = new RollingBaseline(windowMs, lagMs, 5);
    const history: [number, number][] = [];
    for (let s = 0; s < 400; s++) {
      const at = s * 1000;
      // Ties and jumps on purpose: integer values, a level shift half-way.
      const value = Math.round(70 + (s > 200 ? 15 : 0) + (random() - 0.5) * 10);
      const stats = baseline.stats(at);
      const window = history.filter(([t]) => t >= at - lagMs - windowMs && t <= at - lagMs).map(([, v]) => v);
      if (window.length < 5) assert.equal(stats, null, `at ${s} s`);
      else {
        const expected = bruteForce(window);
        assert.deepEqual(stats, { ...expected, n: window.length }, `at ${s} s`);
      }
      baseline.add(at, value);
      history.push([at, value]);
    }
  });

  it('stays correct when polled irregularly', () => {
    const baseline = new RollingBaseline(5000, 0, 1);
    for (let s = 0; s < 20; s++) baseline.add(s * 1000, s);
    assert.deepEqual(baseline.stats(19_000), { median: 16.5, mad: 1.5, n: 6 });
    assert.equal(baseline.stats(40_000), null);
  });
});
