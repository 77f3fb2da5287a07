/**
 * Streaming filters: second-order sections (RBJ audio-EQ cookbook biquads,
 * bilinear transform), so the same code serves any sample rate from 25 to
 * 400 Hz. No allocation per sample.
 */

export class Biquad {
  private z1 = 0;
  private z2 = 0;
  constructor(
    private readonly b0: number,
    private readonly b1: number,
    private readonly b2: number,
    private readonly a1: number,
    private readonly a2: number,
  ) {}

  static lowpass(fc: number, fs: number, q = Math.SQRT1_2): Biquad {
    const { cosw, alpha } = prewarp(fc, fs, q);
    const a0 = 1 + alpha;
    const b = (1 - cosw) / 2 / a0;
    return new Biquad(b, 2 * b, b, (-2 * cosw) / a0, (1 - alpha) / a0);
  }

  static highpass(fc: number, fs: number, q = Math.SQRT1_2): Biquad {
    const { cosw, alpha } = prewarp(fc, fs, q);
    const a0 = 1 + alpha;
    const b = (1 + cosw) / 2 / a0;
    return new Biquad(b, -2 * b, b, (-2 * cosw) / a0, (1 - alpha) / a0);
  }

  /** Transposed direct form II. */
  step(x: number): number {
    const y = this.b0 * x + this.z1;
    this.z1 = this.b1 * x - this.a1 * y + this.z2;
    this.z2 = this.b2 * x - this.a2 * y;
    return y;
  }

  /** Put the filter in its steady state for a constant input x, so a stream does not start with a step. */
  settle(x: number): void {
    const dcGain = (this.b0 + this.b1 + this.b2) / (1 + this.a1 + this.a2);
    const y = dcGain * x;
    this.z2 = this.b2 * x - this.a2 * y;
    this.z1 = this.b1 * x - this.a1 * y + this.z2;
  }
}

function prewarp(fc: number, fs: number, q: number): { cosw: number; alpha: number } {
  if (!(fc > 0 && fc < fs / 2)) throw new RangeError(`cut-off ${fc} Hz must lie between 0 and Nyquist (${fs / 2} Hz)`);
  const w = (2 * Math.PI * fc) / fs;
  return { cosw: Math.cos(w), alpha: Math.sin(w) / (2 * q) };
}

/** Fixed-capacity ring of the most recent samples, copied out oldest-first on demand. */
export class Ring {
  readonly data: Float64Array;
  private head = 0;
  private filled = 0;
  constructor(readonly capacity: number) {
    this.data = new Float64Array(capacity);
  }

  push(x: number): void {
    this.data[this.head] = x;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.filled < this.capacity) this.filled++;
  }

  get length(): number {
    return this.filled;
  }

  /** Copy the newest `n` samples, oldest first, into `out` (no allocation). */
  copyLatest(n: number, out: Float64Array): number {
    const m = Math.min(n, this.filled, out.length);
    let idx = (this.head - m + this.capacity) % this.capacity;
    for (let i = 0; i < m; i++) {
      out[i] = this.data[idx]!;
      idx = idx + 1 === this.capacity ? 0 : idx + 1;
    }
    return m;
  }

  clear(): void {
    this.head = 0;
    this.filled = 0;
  }
}
