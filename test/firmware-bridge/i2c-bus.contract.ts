/**
 * What the driver relies on from any I2CBus with a MAX30102 on it. Run against the emulator
 * always, and against the real bus on a Pi (VIGIL_HARDWARE_TESTS=1), so the two cannot drift.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyI2cError, type I2CBus } from '../../firmware-bridge/i2c.ts';
import { MAX30102_ADDRESS as A, PART_ID_VALUE, REG } from '../../firmware-bridge/max30102/registers.ts';

export function i2cBusContract(name: string, open: () => Promise<I2CBus>, opts: { skip?: string | false } = {}): void {
  const t = (title: string, fn: (bus: I2CBus) => Promise<void>) =>
    test(`${name}: ${title}`, { skip: opts.skip ?? false }, async () => {
      const bus = await open();
      try {
        await fn(bus);
      } finally {
        await bus.close();
      }
    });

  t('reads PART_ID 0x15', async (bus) => {
    assert.equal(await bus.readByte(A, REG.PART_ID), PART_ID_VALUE);
  });

  t('a written register reads back', async (bus) => {
    await bus.writeByte(A, REG.LED1_PA, 0x24);
    assert.equal(await bus.readByte(A, REG.LED1_PA), 0x24);
    await bus.writeByte(A, REG.LED1_PA, 0x00);
  });

  t('block reads fill the buffer and say how many bytes', async (bus) => {
    const buf = Buffer.alloc(32, 0xee);
    const r = await bus.readI2cBlock(A, REG.FIFO_WR_PTR, 3, buf);
    assert.equal(r.bytesRead, 3);
    assert.ok(
      r.buffer.subarray(0, 3).every((b) => b <= 0x1f),
      'pointers are 5-bit',
    );
  });

  t('block reads beyond 32 bytes are refused', async (bus) => {
    await assert.rejects(async () => bus.readI2cBlock(A, REG.FIFO_DATA, 33, Buffer.alloc(64)));
  });

  t('an address nobody answers at is a NACK', async (bus) => {
    await assert.rejects(bus.readByte(0x0b, REG.PART_ID), (err: unknown) => classifyI2cError(err).failure === 'NACK');
  });
}
