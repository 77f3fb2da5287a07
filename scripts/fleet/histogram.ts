/**
 * Latency histogram with 1 ms resolution up to a ceiling, constant memory
 * however many samples it takes, mergeable across processes.
 */
export class LatencyHistogram {
  readonly counts: Uint32Array;
  /** Samples at or above the ceiling (counted, reported as "≥ ceiling"). */
  overflow = 0;
  count = 0;
  max = 0;

  constructor(readonly ceilingMs = 120_000) {
    this.counts = new Uint32Array(ceilingMs);
  }

  record(ms: number): void {
    const bucket = Math.max(0, Math.round(ms));
    this.count++;
    if (bucket > this.max) this.max = bucket;
    if (bucket >= this.ceilingMs) this.overflow++;
    else this.counts[bucket]!++;
  }

  /** The smallest latency at or below which `q` (0..1) of the samples lie; null without samples. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let ms = 0; ms < this.ceilingMs; ms++) {
      seen += this.counts[ms]!;
      if (seen >= rank) return ms;
    }
    return this.ceilingMs;
  }

  reset(): void {
    this.counts.fill(0);
    this.overflow = 0;
    this.count = 0;
    this.max = 0;
  }

  /** Sparse form for IPC: [ms, count] pairs. */
  toSparse(): { buckets: Array<[number, number]>; overflow: number; max: number } {
    const buckets: Array<[number, number]> = [];
    this.counts.forEach((n, ms) => {
      if (n > 0) buckets.push([ms, n]);
    });
    return { buckets, overflow: this.overflow, max: this.max };
  }

  addSparse(sparse: { buckets: Array<[number, number]>; overflow: number; max: number }): void {
    for (const [ms, n] of sparse.buckets) {
      if (ms < this.ceilingMs) this.counts[ms]! += n;
      else this.overflow += n;
      this.count += n;
    }
    this.overflow += sparse.overflow;
    this.count += sparse.overflow;
    this.max = Math.max(this.max, sparse.max);
  }
}
