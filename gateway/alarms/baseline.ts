/**
 * Robust rolling baseline: median and MAD of the values seen in a time window
 * that ends `lagMs` before now. The lag keeps the change being tested out of
 * its own baseline while the alarm condition delay runs.
 *
 * The window's values are kept sorted (binary-search insert and remove), so
 * the median is a lookup and the MAD one linear merge: about a microsecond
 * per estimate for a 10-minute window, instead of two sorts.
 */
export interface BaselineStats {
  median: number;
  /** median absolute deviation from the median */
  mad: number;
  n: number;
}

/** Scale factor that makes the MAD a consistent estimator of the standard deviation for normal data. */
export const MAD_TO_SIGMA = 1.4826;

export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Index of the first element ≥ value. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** k-th smallest (0-based) of |x − m| over a sorted array, by merging the two runs that grow away from m. */
function kthDeviation(sorted: readonly number[], m: number, k: number): number {
  let right = lowerBound(sorted, m);
  let left = right - 1;
  let value = 0;
  for (let taken = 0; taken <= k; taken++) {
    const dl = left >= 0 ? m - (sorted[left] as number) : Number.POSITIVE_INFINITY;
    const dr = right < sorted.length ? (sorted[right] as number) - m : Number.POSITIVE_INFINITY;
    if (dl <= dr) {
      value = dl;
      left--;
    } else {
      value = dr;
      right++;
    }
  }
  return value;
}

/** Median absolute deviation of a sorted array around its median. */
export function madOfSorted(sorted: readonly number[], m = median(sorted)): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? kthDeviation(sorted, m, mid) : (kthDeviation(sorted, m, mid - 1) + kthDeviation(sorted, m, mid)) / 2;
}

export class RollingBaseline {
  /** Samples not yet inside the window (younger than the lag), oldest first. */
  private readonly waiting: { atMs: number; value: number }[] = [];
  /** Samples inside the window, oldest first, for expiry. */
  private readonly inWindow: { atMs: number; value: number }[] = [];
  private inWindowHead = 0;
  private readonly sorted: number[] = [];
  private waitingHead = 0;

  constructor(
    public windowMs: number,
    public lagMs: number,
    public minSamples: number,
  ) {}

  /** Adds a sample; times must not decrease. */
  add(atMs: number, value: number): void {
    this.waiting.push({ atMs, value });
  }

  /** Median and MAD over [now − lag − window, now − lag], or null with too few samples. */
  stats(nowMs: number): BaselineStats | null {
    const newest = nowMs - this.lagMs;
    const oldest = newest - this.windowMs;
    while (this.waitingHead < this.waiting.length && (this.waiting[this.waitingHead] as { atMs: number }).atMs <= newest) {
      const sample = this.waiting[this.waitingHead++] as { atMs: number; value: number };
      if (sample.atMs < oldest) continue;
      this.inWindow.push(sample);
      this.sorted.splice(lowerBound(this.sorted, sample.value), 0, sample.value);
    }
    while (this.inWindowHead < this.inWindow.length && (this.inWindow[this.inWindowHead] as { atMs: number }).atMs < oldest) {
      const gone = (this.inWindow[this.inWindowHead++] as { value: number }).value;
      this.sorted.splice(lowerBound(this.sorted, gone), 1);
    }
    this.compact();
    const n = this.sorted.length;
    if (n === 0 || n < this.minSamples) return null;
    const m = median(this.sorted);
    return { median: m, mad: madOfSorted(this.sorted, m), n };
  }

  clear(): void {
    this.waiting.length = 0;
    this.inWindow.length = 0;
    this.sorted.length = 0;
    this.waitingHead = 0;
    this.inWindowHead = 0;
  }

  /** Drops consumed queue heads now and then, so memory stays bounded by the window. */
  private compact(): void {
    if (this.waitingHead > 1024) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
    if (this.inWindowHead > 1024) {
      this.inWindow.splice(0, this.inWindowHead);
      this.inWindowHead = 0;
    }
  }
}
