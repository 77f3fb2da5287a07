/**
 * Connection rate limit per remote address: a fixed window counter. A
 * misbehaving gateway reconnecting in a tight loop, or a scanner, costs one
 * accept and a close, never a JWT verification.
 */
import type { Clock } from '../clock.ts';

export class ConnectionRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly maxPerWindow: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Counts one connection attempt from `address`; false when over the limit. */
  admit(address: string): boolean {
    if (this.maxPerWindow <= 0) return true;
    const now = this.clock.now();
    let window = this.windows.get(address);
    if (!window || now - window.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.prune(now);
      window = { start: now, count: 0 };
      this.windows.set(address, window);
    }
    window.count++;
    return window.count <= this.maxPerWindow;
  }

  private prune(now: number): void {
    for (const [address, window] of this.windows) if (now - window.start >= this.windowMs) this.windows.delete(address);
  }
}
