/**
 * The gateway's clock: wall time for `t`, monotonic time for `mono`, and an
 * honest statement of whether the wall clock can be trusted.
 *
 * A Raspberry Pi has no real-time clock: it boots with the time it had at
 * shutdown (fake-hwclock) or 1970, and systemd-timesyncd steps it once NTP
 * answers. So:
 * - `quality()` is 'synced' only when timesyncd says so (it creates
 *   /run/systemd/timesync/synchronized once the kernel clock is disciplined),
 *   or the configuration asserts it (a board with an RTC); and 'unsynced'
 *   while `nowMs()` is slewing back toward the wall clock after a step back.
 * - `nowMs()` never goes backwards within a process: after a backward step of
 *   the wall clock it keeps advancing at SLEW_RATE of real time until the
 *   wall clock catches up, so readings keep their order and their spacing is
 *   only mildly compressed; `mono` always carries the true elapsed time.
 * - `monoMs()` is CLOCK_MONOTONIC (ms since the machine booted); `bootId`
 *   changes on every gateway start, so (bootId, mono) orders everything one
 *   process produced whatever the wall clock did.
 *
 * API (other modules call only this):
 *   systemClock(opts?) → GatewayClock      the real clock
 *   manualClock(opts?) → ManualClock       a clock tests move by hand
 */
import { existsSync } from 'node:fs';
import { newId } from '../../protocol/ids.ts';
import type { ClockQuality } from '../../protocol/schemas.ts';

export type { ClockQuality };

export interface GatewayClock {
  /** Wall time in ms since 1970, never smaller than a value returned before. */
  nowMs(): number;
  /** Monotonic ms (since boot for the system clock); never goes back. */
  monoMs(): number;
  quality(): ClockQuality;
  readonly bootId: string;
}

/** systemd-timesyncd's flag file (systemd ≥ 239, `man systemd-timesyncd.service`). */
export const TIMESYNC_FLAG_FILE = '/run/systemd/timesync/synchronized';

/** While ahead of the wall clock, `t` advances at this fraction of real time until they meet. */
export const SLEW_RATE = 0.9;

/**
 * Keeps `t` monotonic over raw wall/mono samples. Pure: the caller supplies the
 * samples, so the jump handling is tested without touching the system clock.
 */
export class MonotonicWallTime {
  private lastT = Number.NEGATIVE_INFINITY;
  private lastMono = 0;

  /** Returns the `t` to stamp for a wall sample taken at `mono`. */
  next(wallMs: number, mono: number): number {
    const slewed = this.lastT + Math.max(0, mono - this.lastMono) * SLEW_RATE;
    // Follow the wall clock unless it stepped back; then keep order and converge by running slow.
    this.lastT = Math.max(wallMs, slewed);
    this.lastMono = mono;
    return Math.max(0, Math.floor(this.lastT));
  }

  /** True while `t` is running ahead of the wall clock after a backward step. */
  diverged(wallMs: number): boolean {
    return this.lastT > wallMs + 1;
  }
}

export interface SystemClockOptions {
  /** Configuration says the wall clock is trustworthy (RTC or external discipline). */
  assumeSynced?: boolean;
  /** Where timesyncd's flag lives (tests point it at a temp file). */
  timesyncFlagFile?: string;
  /** How long a flag-file check is reused, in ms. */
  recheckMs?: number;
}

function hrtimeMs(): number {
  // process.hrtime is CLOCK_MONOTONIC on Linux (libuv uv_hrtime): it keeps counting across wall clock steps.
  return Number(process.hrtime.bigint() / 1_000_000n);
}

export function systemClock(opts: SystemClockOptions = {}): GatewayClock {
  const flagFile = opts.timesyncFlagFile ?? TIMESYNC_FLAG_FILE;
  const recheckMs = opts.recheckMs ?? 5_000;
  const wallTime = new MonotonicWallTime();
  let synced = false;
  let checkedAt = Number.NEGATIVE_INFINITY;
  const bootId = newId();
  return {
    bootId,
    nowMs: () => wallTime.next(Date.now(), hrtimeMs()),
    monoMs: hrtimeMs,
    quality: () => {
      const mono = hrtimeMs();
      if (mono - checkedAt >= recheckMs) {
        synced = opts.assumeSynced === true || existsSync(flagFile);
        checkedAt = mono;
      }
      return synced && !wallTime.diverged(Date.now()) ? 'synced' : 'unsynced';
    },
  };
}

/** A clock tests drive by hand: `advance` moves both clocks, `setWall` steps the wall clock only. */
export interface ManualClock extends GatewayClock {
  advance(ms: number): void;
  setWall(wallMs: number): void;
  setSynced(synced: boolean): void;
}

export function manualClock(opts: { wallMs?: number; monoMs?: number; synced?: boolean; bootId?: string } = {}): ManualClock {
  let wall = opts.wallMs ?? 1_763_000_000_000;
  let mono = opts.monoMs ?? 10_000;
  let synced = opts.synced ?? true;
  const wallTime = new MonotonicWallTime();
  return {
    bootId: opts.bootId ?? newId(),
    nowMs: () => wallTime.next(wall, mono),
    monoMs: () => mono,
    quality: () => (synced && !wallTime.diverged(wall) ? 'synced' : 'unsynced'),
    advance(ms: number) {
      wall += ms;
      mono += ms;
    },
    setWall(wallMs: number) {
      wall = wallMs;
    },
    setSynced(value: boolean) {
      synced = value;
    },
  };
}
