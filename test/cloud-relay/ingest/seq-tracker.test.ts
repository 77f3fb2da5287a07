import assert from 'node:assert/strict';
import { test } from 'node:test';
import { missingCount, observeSeq, type SeqState } from '../../../cloud-relay/ingest/seq-tracker.ts';

function run(seqs: number[]): { state: SeqState | null; gaps: Array<[number, number]>; filled: number; resets: number } {
  let state: SeqState | null = null;
  const gaps: Array<[number, number]> = [];
  let filled = 0;
  let resets = 0;
  for (const seq of seqs) {
    const o = observeSeq(state, seq);
    state = o.state;
    if (o.newGap) gaps.push(o.newGap);
    if (o.filled) filled++;
    if (o.reset) resets++;
  }
  return { state, gaps, filled, resets };
}

test('consecutive sequence numbers report no gap', () => {
  const r = run([4, 5, 6, 7]);
  assert.deepEqual(r.gaps, []);
  assert.deepEqual(r.state, { highest: 7, gaps: [] });
});

test('a jump reports the missing range', () => {
  const r = run([1, 2, 6]);
  assert.deepEqual(r.gaps, [[3, 5]]);
  assert.equal(missingCount(r.state!.gaps), 3);
});

test('late arrivals fill the gap, splitting it when they land inside', () => {
  const r = run([1, 10, 5, 2, 9]);
  assert.deepEqual(r.state!.gaps, [
    [3, 4],
    [6, 8],
  ]);
  assert.equal(r.filled, 3);
  assert.equal(r.resets, 0);
});

test('a counter that goes backwards outside any gap is a reset, and known gaps stay reported', () => {
  const r = run([100, 103, 0, 1]);
  assert.equal(r.resets, 1);
  assert.deepEqual(r.state, { highest: 1, gaps: [[101, 102]] });
});

test('the number of remembered gaps is bounded, oldest forgotten first', () => {
  let state: SeqState | null = null;
  for (let i = 0; i < 10; i++) state = observeSeq(state, i * 2, 3).state;
  assert.deepEqual(state!.gaps, [
    [13, 13],
    [15, 15],
    [17, 17],
  ]);
});
