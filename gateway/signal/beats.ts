/**
 * Beat detection on a window of band-passed absorbance (−ln of the raw PPG,
 * so systole is a peak). Two independent views of the rhythm are combined:
 * the autocorrelation period (robust to pulse shape and the dicrotic wave)
 * and individual beats (peaks separated by a refractory period derived from
 * that period), so neither half- nor double-rate errors pass unnoticed.
 * Pure functions over caller-owned typed arrays; no allocation per call
 * beyond what the caller passes in.
 */

export const MIN_BPM = 30;
export const MAX_BPM = 240;

export interface Period {
  /** Period in samples (fractional, parabolic interpolation). */
  lag: number;
  /** Normalised autocorrelation at that lag, 0..1: how periodic the window is. */
  strength: number;
  /** The acf also peaks near half this lag but the beats there did not confirm it: the rate may be double. */
  ambiguous?: boolean;
}

/**
 * Dominant pulse period of x[0..n) by normalised autocorrelation. Prefers the
 * shortest lag whose correlation is above 0.5 and 60 % of the best one when
 * the best is a multiple of it, so a run of similar beats never reads as half
 * or a third of the rate.
 * `acf` must hold at least fs·60/MIN_BPM + 2 values. Cost grows with n·fs:
 * callers decimate to ~25 Hz first (the lag is refined by interpolation).
 */
export function dominantPeriod(x: Float64Array, n: number, fs: number, acf: Float64Array): Period | null {
  const kMin = Math.max(2, Math.floor((fs * 60) / MAX_BPM));
  const kMax = Math.min(Math.ceil((fs * 60) / MIN_BPM), Math.floor(n * 0.6), acf.length - 2);
  if (kMax <= kMin + 1) return null;
  let e0 = 0;
  for (let i = 0; i < n; i++) e0 += x[i]! * x[i]!;
  if (e0 <= 0) return null;
  // Energies of the two overlapping parts, updated incrementally per lag.
  let head = e0;
  let tail = e0;
  for (let k = 1; k <= kMax + 1; k++) {
    head -= x[n - k]! * x[n - k]!;
    tail -= x[k - 1]! * x[k - 1]!;
    if (k < kMin - 1) continue;
    let s = 0;
    for (let i = 0; i + k < n; i++) s += x[i]! * x[i + k]!;
    const d = Math.sqrt(head * tail);
    acf[k] = d > 0 ? s / d : 0;
  }
  let best = -1;
  let bestR = 0;
  for (let k = kMin; k <= kMax; k++) {
    const r = acf[k]!;
    if (r > acf[k - 1]! && r >= acf[k + 1]! && r > bestR) {
      best = k;
      bestR = r;
    }
  }
  if (best < 0) return null;
  for (let k = kMin; k < best; k++) {
    const r = acf[k]!;
    // A strong peak at a whole fraction of the best lag is the period itself: over a long lag the
    // normalised acf can score a multiple higher when the rate drifts a little.
    if (!(r > acf[k - 1]! && r >= acf[k + 1]!) || r < Math.max(0.5, 0.6 * bestR)) continue;
    const m = best / k;
    if (Math.round(m) >= 2 && Math.abs(m - Math.round(m)) < 0.12 * Math.round(m)) {
      best = k;
      bestR = r;
      break;
    }
  }
  return { lag: best + parabolicOffset(acf[best - 1]!, acf[best]!, acf[best + 1]!), strength: Math.max(0, Math.min(1, bestR)) };
}

/**
 * Alternating beat amplitudes (pulsus alternans, respiration, a camera's
 * auto-exposure) make the autocorrelation peak at two periods rather than
 * one. When the acf also peaks near half the lag and beats detected at that
 * half period are regular and of comparable size, the half period is the
 * pulse. A dicrotic wave fails this: its "beats" alternate short and long.
 */
export function resolveAlternans(
  x: Float64Array,
  n: number,
  period: Period,
  acf: Float64Array,
  beats: Beats,
  scratch: Float64Array,
  fs: number,
  acfStep = 1,
): Period {
  if (period.lag / 2 < (fs * 60) / MAX_BPM) return period;
  // `acf` may be computed on x decimated by `acfStep`; its lags are in those units.
  const half = period.lag / 2 / acfStep;
  let best = -1;
  for (let k = Math.max(2, Math.floor(half * 0.85)); k <= Math.ceil(half * 1.15) && k + 1 < acf.length; k++) {
    if (acf[k]! > acf[k - 1]! && acf[k]! >= acf[k + 1]! && (best < 0 || acf[k]! > acf[best]!)) best = k;
  }
  // A smooth pulse has its acf minimum near half the period, not a peak.
  if (best < 0 || acf[best]! < -0.15) return period;
  const lag = (best + parabolicOffset(acf[best - 1]!, acf[best]!, acf[best + 1]!)) * acfStep;
  // The small beats of an alternating train can be a fifth of the large ones.
  detectBeats(x, n, lag, beats, scratch, 0.15);
  const rhythm = rhythmFromBeats(beats, 0, scratch);
  const confirmed =
    acf[best]! >= 0.1 && rhythm.intervals >= 3 && rhythm.regularity >= 0.85 && Math.abs(rhythm.interval - lag) <= 0.15 * lag;
  return confirmed ? { lag, strength: period.strength } : { ...period, ambiguous: true };
}

export interface Beats {
  /** Peak times in samples from the window start (fractional). */
  readonly times: Float64Array;
  /** Peak-to-preceding-trough amplitude of each beat. */
  readonly amps: Float64Array;
  /** Integer index of each peak. */
  readonly index: Int32Array;
  count: number;
}

export function allocBeats(capacity: number): Beats {
  return {
    times: new Float64Array(capacity),
    amps: new Float64Array(capacity),
    index: new Int32Array(capacity),
    count: 0,
  };
}

/**
 * Systolic peaks of x[0..n): local maxima at least 0.55 periods apart
 * (the dicrotic wave falls inside that refractory span and loses to the
 * systolic peak), then beats smaller than 35 % of the median are dropped as
 * noise (`minShare`). `scratch` needs n values.
 */
export function detectBeats(x: Float64Array, n: number, periodSamples: number, out: Beats, scratch: Float64Array, minShare = 0.35): number {
  const refractory = 0.55 * periodSamples;
  let count = 0;
  let trough = x[0]!;
  for (let i = 1; i + 1 < n; i++) {
    const v = x[i]!;
    if (v < trough) trough = v;
    if (!(v > x[i - 1]! && v >= x[i + 1]!)) continue;
    const t = i + parabolicOffset(x[i - 1]!, v, x[i + 1]!);
    const amp = v - trough;
    if (count > 0 && t - out.times[count - 1]! < refractory) {
      if (v > x[out.index[count - 1]!]!) {
        out.times[count - 1] = t;
        out.index[count - 1] = i;
        out.amps[count - 1] = Math.max(amp, out.amps[count - 1]!);
        trough = v;
      }
      continue;
    }
    if (count === out.times.length) break;
    out.times[count] = t;
    out.index[count] = i;
    out.amps[count] = amp;
    count++;
    // Amplitudes are per beat: the next trough is searched from this peak on.
    trough = v;
  }
  // A peak in the last part of the window may still be overtaken by the real systolic peak: not yet a beat.
  while (count > 0 && out.index[count - 1]! > n - 1 - 0.3 * periodSamples) count--;
  if (count === 0) {
    out.count = 0;
    return 0;
  }
  for (let b = 0; b < count; b++) scratch[b] = out.amps[b]!;
  const med = median(scratch, count);
  let kept = 0;
  for (let b = 0; b < count; b++) {
    if (out.amps[b]! < minShare * med) continue;
    out.times[kept] = out.times[b]!;
    out.index[kept] = out.index[b]!;
    out.amps[kept] = out.amps[b]!;
    kept++;
  }
  out.count = kept;
  return kept;
}

export interface Rhythm {
  /** Mean interval of the regular beats, in samples; NaN when too few. */
  interval: number;
  /** Share of intervals within ±25 % of the median (1 = perfectly regular). */
  regularity: number;
  /** Intervals counted. */
  intervals: number;
}

/**
 * Heart rate from beat intervals whose closing beat lies at or after `from`:
 * the mean of the intervals within ±25 % of their median, so an ectopic beat
 * and its compensatory pause (or one missed beat) do not move the rate.
 */
export function rhythmFromBeats(beats: Beats, from: number, scratch: Float64Array): Rhythm {
  let m = 0;
  for (let b = 1; b < beats.count; b++) {
    if (beats.times[b]! < from) continue;
    scratch[m++] = beats.times[b]! - beats.times[b - 1]!;
  }
  if (m < 2) return { interval: Number.NaN, regularity: 0, intervals: m };
  // median() reorders scratch in place; only the values matter here.
  const med = median(scratch, m);
  let sum = 0;
  let k = 0;
  for (let i = 0; i < m; i++) {
    const d = scratch[i]!;
    if (d > 0.75 * med && d < 1.25 * med) {
      sum += d;
      k++;
    }
  }
  return { interval: k > 0 ? sum / k : Number.NaN, regularity: k / m, intervals: m };
}

/**
 * Mean correlation of each beat with the average beat (Li & Clifford's
 * template-matching SQI): near 1 for a clean pulse train, low under motion.
 * `template` needs `span` values.
 */
export function templateCorrelation(x: Float64Array, n: number, beats: Beats, periodSamples: number, template: Float64Array): number {
  const before = Math.round(0.35 * periodSamples);
  const span = Math.min(template.length, before + Math.round(0.55 * periodSamples));
  if (span < 4) return 0;
  template.fill(0, 0, span);
  let used = 0;
  for (let b = 0; b < beats.count; b++) {
    const start = beats.index[b]! - before;
    if (start < 0 || start + span > n) continue;
    for (let j = 0; j < span; j++) template[j]! += x[start + j]!;
    used++;
  }
  if (used < 2) return 0;
  let tMean = 0;
  for (let j = 0; j < span; j++) {
    template[j]! /= used;
    tMean += template[j]!;
  }
  tMean /= span;
  let tVar = 0;
  for (let j = 0; j < span; j++) {
    template[j]! -= tMean;
    tVar += template[j]! * template[j]!;
  }
  let total = 0;
  for (let b = 0; b < beats.count; b++) {
    const start = beats.index[b]! - before;
    if (start < 0 || start + span > n) continue;
    let mean = 0;
    for (let j = 0; j < span; j++) mean += x[start + j]!;
    mean /= span;
    let sxy = 0;
    let sxx = 0;
    for (let j = 0; j < span; j++) {
      const v = x[start + j]! - mean;
      sxy += v * template[j]!;
      sxx += v * v;
    }
    total += sxx > 0 && tVar > 0 ? sxy / Math.sqrt(sxx * tVar) : 0;
  }
  return Math.max(0, total / used);
}

/** Vertex offset (−0.5..0.5) of the parabola through three equally spaced points. */
export function parabolicOffset(a: number, b: number, c: number): number {
  const d = a - 2 * b + c;
  if (d === 0) return 0;
  const o = (0.5 * (a - c)) / d;
  return Math.max(-0.5, Math.min(0.5, o));
}

/** Median of v[0..n), reordering v in place (quickselect; no allocation). */
export function median(v: Float64Array, n: number): number {
  if (n <= 0) return Number.NaN;
  const k = n >> 1;
  const hi = select(v, n, k);
  if (n & 1) return hi;
  let lo = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < k; i++) if (v[i]! > lo) lo = v[i]!;
  return (lo + hi) / 2;
}

/** The k-th smallest of v[0..n) (0-based), reordering v in place. */
export function select(v: Float64Array, n: number, k: number): number {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    const pivot = v[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (v[i]! < pivot) i++;
      while (v[j]! > pivot) j--;
      if (i <= j) {
        const t = v[i]!;
        v[i] = v[j]!;
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return v[k]!;
}
