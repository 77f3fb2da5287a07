/**
 * Robust rolling baseline: median and MAD of the values seen in a time window
 * that ends `lagMs` before now. The lag keeps the change being tested out of
 * its own baseline while the alarm condition delay runs.
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

export class RollingBaseline {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private head = 0;

  constructor(
    public windowMs: number,
    public lagMs: number,
    public minSamples: number,
  ) {}

  add(atMs: number, value: number): void {
    this.times.push(atMs);
    this.values.push(value);
  }

  /** Median and MAD over [now - lag - window, now - lag], or null with too few samples. */
  stats(nowMs: number): BaselineStats | null {
    const oldest = nowMs - this.lagMs - this.windowMs;
    while (this.head < this.times.length && (this.times[this.head] as number) < oldest) this.head++;
    if (this.head > 4096) {
      this.times.splice(0, this.head);
      this.values.splice(0, this.head);
      this.head = 0;
    }
    const newest = nowMs - this.lagMs;
    const window: number[] = [];
    for (let i = this.head; i < this.times.length && (this.times[i] as number) <= newest; i++) window.push(this.values[i] as number);
    if (window.length < this.minSamples || window.length === 0) return null;
    window.sort((a, b) => a - b);
    const m = median(window);
    const deviations = window.map((v) => Math.abs(v - m)).sort((a, b) => a - b);
    return { median: m, mad: median(deviations), n: window.length };
  }

  clear(): void {
    this.times.length = 0;
    this.values.length = 0;
    this.head = 0;
  }
}
