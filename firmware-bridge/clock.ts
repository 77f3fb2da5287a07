/**
 * Time for the driver and the emulator. The gateway runs on `realClock`; tests and
 * benchmarks use `VirtualClock`, whose time moves only when told to, so an hour of
 * sensor traffic runs in well under a second and no test sleeps.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Calls `fn` once, `delayMs` from now. */
  setTimer(delayMs: number, fn: () => void): Timer;
}

/** performance.now() and setTimeout: the clock of a running gateway. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    const h = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(h) };
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets promise chains started by a timer (driver I2C transactions) settle before time moves on. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock whose time advances only through `advance` / `jump`, firing due timers in order. */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Pending[] = [];

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const p: Pending = { at: this.t + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(p);
    return {
      cancel: () => {
        p.cancelled = true;
      },
    };
  }

  /** Number of timers still waiting. */
  pending(): number {
    return this.timers.filter((p) => !p.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, each at its own time. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      this.timers = this.timers.filter((p) => !p.cancelled);
      let next: Pending | undefined;
      for (const p of this.timers) if (p.at <= end && (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  /** Moves time forward without firing timers first: an event-loop stall as the program sees it. */
  jump(ms: number): void {
    this.t += ms;
  }
}
