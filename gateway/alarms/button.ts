/**
 * The bedside alarm button, so alarms can be handled where they sound even
 * when the network is down: a short press acknowledges every active alarm, a
 * long press pauses the audio for 2 minutes (IEC 60601-1-8 "audio paused",
 * the longest this engine allows). Watches a `GpioInput` (active low, pulled
 * up) on an injected clock.
 */
import type { Clock, Timer } from '../../firmware-bridge/clock.ts';
import type { BinaryValue, GpioInput } from '../../firmware-bridge/gpio.ts';
import type { AlarmEvent } from '../../protocol/schemas.ts';
import { type AlarmEngine, MAX_PAUSE_MS } from './engine.ts';

/** Held this long, a press pauses instead of acknowledging. */
export const LONG_PRESS_MS = 2000;
/** Edges closer than this to the previous one are contact bounce. */
export const DEBOUNCE_MS = 30;

export type ButtonAction = 'acknowledge' | 'pause';

export interface AlarmButtonOptions {
  /** The button's pin, reporting both edges. */
  input: GpioInput;
  clock: Clock;
  engine: Pick<AlarmEngine, 'acknowledgeAll' | 'pause'>;
  /** The engine's time base (monotonic ms); defaults to the clock's. */
  now?: () => number;
  /** What a press did, with the events to put in the outbox (none when nothing was active). */
  onAction: (action: ButtonAction, events: AlarmEvent[]) => void;
  /** Level of the pin while pressed; default 0 (active low). */
  pressedLevel?: BinaryValue;
}

export class AlarmButton {
  private pressedAtMs: number | null = null;
  private lastEdgeMs = Number.NEGATIVE_INFINITY;
  private longPress: Timer | null = null;
  private readonly unwatch: () => void;
  private readonly now: () => number;

  constructor(private readonly options: AlarmButtonOptions) {
    this.now = options.now ?? (() => options.clock.now());
    this.unwatch = options.input.watch((value) => this.edge(value));
  }

  private edge(value: BinaryValue): void {
    const at = this.options.clock.now();
    if (at - this.lastEdgeMs < DEBOUNCE_MS) return;
    this.lastEdgeMs = at;
    const pressed = value === (this.options.pressedLevel ?? 0);
    if (pressed && this.pressedAtMs === null) {
      this.pressedAtMs = at;
      this.longPress = this.options.clock.setTimer(LONG_PRESS_MS, () => {
        this.longPress = null;
        const outcome = this.options.engine.pause(this.now(), MAX_PAUSE_MS);
        this.options.onAction('pause', outcome.ok ? outcome.events : []);
      });
    } else if (!pressed && this.pressedAtMs !== null) {
      this.pressedAtMs = null;
      // Released before the long-press timer fired: a short press.
      if (this.longPress) {
        this.longPress.cancel();
        this.longPress = null;
        this.options.onAction('acknowledge', this.options.engine.acknowledgeAll(this.now()));
      }
    }
  }

  close(): void {
    this.longPress?.cancel();
    this.longPress = null;
    this.unwatch();
  }
}
