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

/**
 * Rate (bpm) of the strongest peak of the Hann-windowed periodogram of x over
 * (t − windowS, t], 30–210 bpm on a 0.3-bpm grid: a look at whether a stretch
 * of recording carries the heartbeat that shares no code with the pipeline.
 */
export function periodogramPeakBpm(x: Float64Array, fs: number, t: number, windowS: number): number {
  const i1 = Math.min(x.length, Math.round(t * fs));
  const i0 = Math.max(0, i1 - Math.round(windowS * fs));
  const n = i1 - i0;
  if (n < 8) return Number.NaN;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = x[i0 + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  let best = Number.NaN;
  let bestPower = -1;
  for (let bpm = 30; bpm <= 210; bpm += 0.3) {
    // Goertzel: the power at one frequency.
    const c = 2 * Math.cos((2 * Math.PI * bpm) / 60 / fs);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const s = w[i]! + c * s1 - s2;
      s2 = s1;
      s1 = s;
    }
    const p = s1 * s1 + s2 * s2 - c * s1 * s2;
    if (p > bestPower) {
      bestPower = p;
      best = bpm;
    }
  }
  return best;
}
