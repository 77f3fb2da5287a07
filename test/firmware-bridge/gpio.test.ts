import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MemoryGpioInput, MemoryGpioOutput } from '../../firmware-bridge/gpio-memory.ts';
import { sysfsNumber } from '../../firmware-bridge/gpio-onoff.ts';
import { gpioContract } from './gpio.contract.ts';

gpioContract('in-memory', async () => {
  const output = new MemoryGpioOutput();
  const input = new MemoryGpioInput(1, 'falling');
  return {
    output,
    input,
    outputLevel: async () => output.value,
    drive: async (v) => input.set(v),
    settle: () => new Promise((r) => setImmediate(r)),
  };
});

// On a Pi, wire BCM 5 (output) to BCM 6 (input) and set VIGIL_HARDWARE_TESTS=1 to run the contract over onoff.
const hw = process.env.VIGIL_HARDWARE_TESTS === '1' && process.env.VIGIL_GPIO_LOOPBACK === '5,6';
gpioContract(
  'onoff (BCM 5 → BCM 6 loopback)',
  async () => {
    const { openOnoffInput, openOnoffOutput } = await import('../../firmware-bridge/gpio-onoff.ts');
    const drive = await openOnoffOutput(5);
    const input = await openOnoffInput(6);
    const output = await openOnoffOutput(13);
    const sense = await openOnoffInput(19);
    return {
      output,
      input,
      outputLevel: () => sense.read(),
      drive: (v) => drive.write(v),
      settle: () => new Promise((r) => setTimeout(r, 20)),
    };
  },
  { skip: hw ? false : 'needs a Pi with loopback wires BCM 5→6 and 13→19, VIGIL_HARDWARE_TESTS=1, VIGIL_GPIO_LOOPBACK=5,6' },
);

describe('sysfs GPIO numbering', () => {
  test('adds the base of the Pi pin controller chip (512 on kernels from 6.6 on)', () => {
    const root = mkdtempSync(join(tmpdir(), 'vigil-gpio-'));
    try {
      for (const [chip, label, base] of [
        ['gpiochip0', 'some-expander', 0],
        ['gpiochip512', 'pinctrl-bcm2711', 512],
      ] as const) {
        mkdirSync(join(root, chip));
        writeFileSync(join(root, chip, 'label'), `${label}\n`);
        writeFileSync(join(root, chip, 'base'), `${base}\n`);
      }
      assert.equal(sysfsNumber(17, root), 529);
      assert.equal(sysfsNumber(17, join(root, 'absent')), 17);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
