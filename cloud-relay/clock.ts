/**
 * Time as the relay sees it. Token expiry, enrollment expiry and the spool
 * drainer's backoff all read this, so tests move time instead of sleeping.
 */
export interface Clock {
  /** Wall clock, ms since 1970. */
  now(): number;
  /** Runs `fn` after `delayMs`; returns a function that cancels it. */
  setTimer(delayMs: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    // setTimeout overflows above 2^31-1 ms (24.8 days) and would fire at once.
    const timer = setTimeout(fn, Math.min(Math.max(0, delayMs), 2 ** 31 - 1));
    timer.unref();
    return () => clearTimeout(timer);
  },
};
