/**
 * Reconnect delays: exponential backoff with full jitter
 * (delay = random(0, min(cap, base · 2^attempt)), as in the AWS architecture
 * note "Exponential Backoff And Jitter"), so a relay restart does not bring
 * every gateway back in the same second.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** A connection that stayed up this long resets the attempt counter. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000, stableMs: 30_000 };

export function fullJitterDelay(
  attempt: number,
  policy: Pick<BackoffPolicy, 'baseMs' | 'capMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Pacing for the replay: a token bucket of `messagesPerSecond` with one
 * second of burst, read against an injected monotonic clock.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = ratePerSecond;
    this.last = now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.ratePerSecond, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
  }

  /** Takes up to `want` whole tokens; returns how many were granted. */
  take(want: number): number {
    if (!Number.isFinite(this.ratePerSecond)) return want;
    this.refill();
    const granted = Math.min(want, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  /** Milliseconds until at least one token is available. */
  waitMs(): number {
    if (!Number.isFinite(this.ratePerSecond)) return 0;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }
}
