/** The GPIO contract, run by the in-memory implementation here and by onoff on a Pi with a loopback wire. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BinaryValue, GpioInput, GpioOutput } from '../../firmware-bridge/gpio.ts';

export interface GpioHarness {
  output: GpioOutput;
  input: GpioInput;
  /** Reads what the output pin is at (memory: its value; hardware: through a loopback input). */
  outputLevel(): Promise<BinaryValue>;
  /** Drives the input pin. */
  drive(value: BinaryValue): Promise<void>;
  /** Waits for edge delivery (microtasks in memory, a few ms on hardware). */
  settle(): Promise<void>;
}

export function gpioContract(name: string, open: () => Promise<GpioHarness>, opts: { skip?: string | false } = {}): void {
  const t = (title: string, fn: (h: GpioHarness) => Promise<void>) =>
    test(`${name}: ${title}`, { skip: opts.skip ?? false }, async () => {
      const h = await open();
      try {
        await fn(h);
      } finally {
        await h.output.close();
        await h.input.close();
      }
    });

  t('an output drives its pin and is ignored after close', async (h) => {
    await h.output.write(1);
    assert.equal(await h.outputLevel(), 1);
    await h.output.write(0);
    assert.equal(await h.outputLevel(), 0);
    await h.output.close();
    await h.output.write(1);
  });

  t('an input reports falling edges until unwatched', async (h) => {
    await h.drive(1);
    await h.settle();
    const edges: BinaryValue[] = [];
    const stop = h.input.watch((v) => edges.push(v));
    await h.drive(0);
    await h.settle();
    assert.deepEqual(edges, [0]);
    assert.equal(await h.input.read(), 0);
    await h.drive(1);
    await h.settle();
    assert.deepEqual(edges, [0], 'rising edges are not reported');
    stop();
    await h.drive(0);
    await h.settle();
    assert.deepEqual(edges, [0]);
  });
}
