/** Reference heart rates: beat times to a per-second rate over the same window a method uses. */

/** Mean rate of the beats in (t − windowS, t]: (beats − 1) intervals over their span; NaN with fewer than 3 beats. */
export function rateAt(beatTimesS: readonly number[], t: number, windowS: number): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = 0; i < beatTimesS.length; i++) {
    const b = beatTimesS[i]!;
    if (b <= t - windowS) continue;
    if (b > t) break;
    if (first < 0) first = i;
    last = i;
    count++;
  }
  if (count < 3) return Number.NaN;
  return (60 * (count - 1)) / (beatTimesS[last]! - beatTimesS[first]!);
}

/** Beat times (s) from RR intervals (ms), the first beat at `offsetS`. */
export function beatsFromRr(rrMs: readonly number[], offsetS: number): number[] {
  const out = [offsetS];
  let t = offsetS;
  for (const rr of rrMs) {
    t += rr / 1000;
    out.push(t);
  }
  return out;
}
