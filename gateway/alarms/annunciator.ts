/**
 * Local annunciation that needs no network: the alarm LED and the buzzer,
 * driven through the `GpioOutput` seam on an injected clock.
 *
 * Patterns follow IEC 60601-1-8 (2006+A1+A2):
 * - visual, Table 2: high flashes at 1.4–2.8 Hz, medium at 0.4–0.8 Hz, both
 *   with a 20–60 % duty cycle; low is constant (on);
 * - auditory, Tables 3 and 4: a high-priority burst is 10 pulses grouped
 *   3 + 2, pause, 3 + 2; a medium burst is 3 pulses; low may stay silent,
 *   and here it does.
 * One LED shows the highest active priority (acknowledged ones included); the
 * buzzer sounds the highest unacknowledged, unpaused one (engine.annunciation).
 */
import type { Clock, Timer } from '../../firmware-bridge/clock.ts';
import type { BinaryValue, GpioOutput } from '../../firmware-bridge/gpio.ts';
import type { AlarmPriority } from '../../protocol/schemas.ts';
import type { Annunciation } from './engine.ts';

/** One repeating pattern: the output takes `value` at `atMs` into each period. Steps are sorted, the first at 0. */
export interface Pattern {
  periodMs: number;
  steps: readonly (readonly [atMs: number, value: BinaryValue])[];
}

/** A pulse train: on at each start for `pulseMs`. */
function pulses(starts: readonly number[], pulseMs: number, periodMs: number): Pattern {
  return { periodMs, steps: starts.flatMap((at) => [[at, 1] as const, [at + pulseMs, 0] as const]) };
}

/**
 * High-priority burst, IEC 60601-1-8 Tables 3 and 4: pulse width 150 ms (75–200),
 * spacing 100 ms (50–125); the 3rd-to-4th gap is 2·spacing + width; 700 ms
 * (350–1300) between the 5th and the 6th pulse; the burst repeats every 8 s
 * (interburst 2.5–15 s).
 */
export const HIGH_AUDIO: Pattern = (() => {
  const width = 150;
  const spacing = 100;
  const half = [0, width + spacing, 2 * (width + spacing)];
  const fourth = (half[2] as number) + width + 2 * spacing + width;
  const group = [...half, fourth, fourth + width + spacing];
  const second = (group[4] as number) + width + 700;
  return pulses([...group, ...group.map((at) => at + second)], width, 8000);
})();

/** Medium-priority burst: 3 pulses of 200 ms (125–250) spaced 200 ms (125–250), every 15 s (2.5–30 s). */
export const MEDIUM_AUDIO: Pattern = pulses([0, 400, 800], 200, 15_000);

/** High: 2 Hz, 50 % duty. */
export const HIGH_VISUAL: Pattern = {
  periodMs: 500,
  steps: [
    [0, 1],
    [250, 0],
  ],
};
/** Medium: 0.625 Hz, 50 % duty. */
export const MEDIUM_VISUAL: Pattern = {
  periodMs: 1600,
  steps: [
    [0, 1],
    [800, 0],
  ],
};
/** Low: constant on. */
export const LOW_VISUAL: Pattern = { periodMs: 0, steps: [[0, 1]] };

export const VISUAL_PATTERNS: Record<AlarmPriority, Pattern> = { high: HIGH_VISUAL, medium: MEDIUM_VISUAL, low: LOW_VISUAL };
export const AUDIO_PATTERNS: Record<AlarmPriority, Pattern | null> = { high: HIGH_AUDIO, medium: MEDIUM_AUDIO, low: null };

/** Plays one pattern on one output; a new pattern replaces the old one at once. */
class Channel {
  private pattern: Pattern | null = null;
  private timer: Timer | null = null;
  private closed = false;
  private last: BinaryValue | null = null;

  constructor(
    private readonly output: GpioOutput,
    private readonly clock: Clock,
    private readonly onError: (error: unknown) => void,
  ) {}

  play(pattern: Pattern | null): void {
    if (this.closed || pattern === this.pattern) return;
    this.timer?.cancel();
    this.timer = null;
    this.pattern = pattern;
    if (pattern === null) this.write(0);
    else this.step(pattern, 0, this.clock.now());
  }

  private step(pattern: Pattern, index: number, periodStart: number): void {
    const [, value] = pattern.steps[index] as readonly [number, BinaryValue];
    this.write(value);
    if (pattern.periodMs === 0 && index === pattern.steps.length - 1) return;
    let next = index + 1;
    let nextPeriod = periodStart;
    if (next === pattern.steps.length) {
      next = 0;
      nextPeriod = periodStart + pattern.periodMs;
    }
    const at = nextPeriod + (pattern.steps[next] as readonly [number, BinaryValue])[0];
    // Scheduled against the period start, not the last write, so the rhythm does not drift.
    this.timer = this.clock.setTimer(at - this.clock.now(), () => {
      if (this.pattern === pattern) this.step(pattern, next, nextPeriod);
    });
  }

  private write(value: BinaryValue): void {
    if (value === this.last) return;
    this.last = value;
    this.output.write(value).catch(this.onError);
  }

  async close(): Promise<void> {
    this.play(null);
    this.closed = true;
    await this.output.close();
  }
}

export interface AnnunciatorOptions {
  led: GpioOutput;
  buzzer: GpioOutput;
  clock: Clock;
  /** A GPIO write failed: the gateway should log it and report a technical problem. */
  onError?: (error: unknown) => void;
}

export class Annunciator {
  private readonly led: Channel;
  private readonly buzzer: Channel;
  /** GPIO writes that failed. */
  writeErrors = 0;

  constructor(options: AnnunciatorOptions) {
    const onError = (error: unknown) => {
      this.writeErrors++;
      options.onError?.(error);
    };
    this.led = new Channel(options.led, options.clock, onError);
    this.buzzer = new Channel(options.buzzer, options.clock, onError);
  }

  /** Shows the engine's current annunciation; idempotent, so call it after every engine call. */
  show(state: Annunciation): void {
    this.led.play(state.visual === null ? null : VISUAL_PATTERNS[state.visual]);
    this.buzzer.play(state.audio === null ? null : AUDIO_PATTERNS[state.audio]);
  }

  /** Turns both outputs off and releases them. */
  async close(): Promise<void> {
    await Promise.all([this.led.close(), this.buzzer.close()]);
  }
}
