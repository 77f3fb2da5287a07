/**
 * Automatic LED-current control and finger detection, pure so they are tested on numbers.
 *
 * Commercial oximeters servo LED drive so the photodiode DC sits in the ADC's linear range: too
 * low and quantisation noise swamps a 0.1–2 % pulse; near full scale the peaks clip. The window
 * below is wide and the controller acts only after the DC has stayed outside it for `settleMs`,
 * then waits `holdMs` before acting again, so a breath or a motion burst does not make it hunt.
 */
import { FULL_SCALE, LED_MA_PER_LSB, LED_MAX_MA } from './registers.ts';

export interface LedControlOptions {
  /** Act when the DC leaves [low, high] (fractions of full scale)… */
  low: number;
  high: number;
  /** …and aim for this fraction. */
  target: number;
  settleMs: number;
  holdMs: number;
  minMa: number;
  maxMa: number;
}

export const DEFAULT_LED_CONTROL: Readonly<LedControlOptions> = Object.freeze({
  low: 0.25,
  high: 0.8,
  target: 0.5,
  settleMs: 1000,
  holdMs: 2000,
  minMa: 1,
  maxMa: LED_MAX_MA,
});

/** Above this fraction of full scale the ADC is clipping the pulse peaks: act at once. */
const CLIPPING = 0.97;

export class LedController {
  private outsideSince: number | undefined;
  private lastChangeAt = Number.NEGATIVE_INFINITY;
  private readonly o: LedControlOptions;

  constructor(opts: Partial<LedControlOptions> = {}) {
    this.o = { ...DEFAULT_LED_CONTROL, ...opts };
  }

  /**
   * Feeds the DC (counts) seen at `nowMs` with the LED at `currentMa`; returns the new current when
   * it should change. Returns nothing while the finger is off: driving the LED harder into air helps nobody.
   */
  update(dc: number, nowMs: number, currentMa: number, fingerOn: boolean): number | undefined {
    if (!fingerOn || !(dc >= 0)) {
      this.outsideSince = undefined;
      return undefined;
    }
    const f = dc / FULL_SCALE;
    if (f >= this.o.low && f <= this.o.high) {
      this.outsideSince = undefined;
      return undefined;
    }
    if (nowMs - this.lastChangeAt < this.o.holdMs) return undefined;
    const clipping = f >= CLIPPING;
    this.outsideSince ??= nowMs;
    if (!clipping && nowMs - this.outsideSince < this.o.settleMs) return undefined;
    // DC is proportional to LED current; when clipping the reading understates it, so at least halve.
    let next = clipping ? Math.min(currentMa / 2, (currentMa * this.o.target) / f) : (currentMa * this.o.target) / Math.max(f, 1e-4);
    next = Math.round(Math.min(this.o.maxMa, Math.max(this.o.minMa, next)) / LED_MA_PER_LSB) * LED_MA_PER_LSB;
    next = Math.round(next * 10) / 10;
    this.outsideSince = undefined;
    if (Math.abs(next - currentMa) < LED_MA_PER_LSB / 2) return undefined;
    this.lastChangeAt = nowMs;
    return next;
  }
}

export interface FingerDetectOptions {
  /** Finger off below this fraction of full scale… */
  offBelow: number;
  /** …and back on above this one, held for `onForMs` (hysteresis against flicker). */
  onAbove: number;
  onForMs: number;
}

export const DEFAULT_FINGER_DETECT: Readonly<FingerDetectOptions> = Object.freeze({ offBelow: 0.02, onAbove: 0.04, onForMs: 500 });

/** Finger presence from the IR DC level: with no tissue over the sensor almost no light returns. */
export class FingerDetector {
  private on = true;
  private aboveSince: number | undefined;
  private readonly o: FingerDetectOptions;

  constructor(opts: Partial<FingerDetectOptions> = {}) {
    this.o = { ...DEFAULT_FINGER_DETECT, ...opts };
  }

  get fingerOn(): boolean {
    return this.on;
  }

  update(dc: number, nowMs: number): boolean {
    const f = dc / FULL_SCALE;
    if (this.on) {
      if (f < this.o.offBelow) {
        this.on = false;
        this.aboveSince = undefined;
      }
    } else if (f > this.o.onAbove) {
      this.aboveSince ??= nowMs;
      if (nowMs - this.aboveSince >= this.o.onForMs) this.on = true;
    } else {
      this.aboveSince = undefined;
    }
    return this.on;
  }
}
