/**
 * In-memory GPIO: outputs remember what was written, inputs are driven by code (a test, or the
 * emulator's INT line). Same contract as the onoff implementation (gpio-onoff.ts).
 */
import type { BinaryValue, GpioInput, GpioOutput } from './gpio.ts';

export type Edge = 'falling' | 'rising' | 'both';

export class MemoryGpioOutput implements GpioOutput {
  value: BinaryValue = 0;
  readonly writes: BinaryValue[] = [];
  closed = false;

  async write(value: BinaryValue): Promise<void> {
    if (this.closed) return;
    this.value = value;
    this.writes.push(value);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class MemoryGpioInput implements GpioInput {
  private level: BinaryValue;
  private readonly watchers = new Set<(value: BinaryValue) => void>();
  closed = false;

  constructor(
    initial: BinaryValue = 1,
    private readonly edge: Edge = 'falling',
  ) {
    this.level = initial;
  }

  async read(): Promise<BinaryValue> {
    return this.level;
  }

  /** Synchronous level, for the side that drives the pin. */
  get value(): BinaryValue {
    return this.level;
  }

  watch(onEdge: (value: BinaryValue) => void): () => void {
    this.watchers.add(onEdge);
    return () => this.watchers.delete(onEdge);
  }

  /** Drives the pin; watchers hear about it on the configured edge, after the current job (as onoff's poller would). */
  set(value: BinaryValue): void {
    if (this.closed || value === this.level) return;
    this.level = value;
    const fire = this.edge === 'both' || (this.edge === 'falling' ? value === 0 : value === 1);
    if (!fire) return;
    for (const w of [...this.watchers]) queueMicrotask(() => w(value));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
  }
}
