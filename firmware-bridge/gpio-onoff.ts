/**
 * The GPIO seam over `onoff` (Linux sysfs GPIO). Imported dynamically so the project loads where
 * onoff is absent. `Gpio.accessible` tells whether this machine has GPIO at all.
 *
 * Numbering: onoff takes sysfs numbers. On Raspberry Pi OS kernels from 6.6 on, the BCM pins sit
 * on a gpiochip whose base is 512, so BCM 17 is sysfs 529; `sysfsNumber` finds the base.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { BinaryValue, GpioInput, GpioOutput } from './gpio.ts';
import { HardwareUnavailableError } from './i2c-hardware.ts';

interface OnoffGpio {
  read(): Promise<BinaryValue>;
  write(value: BinaryValue): Promise<void>;
  watch(cb: (err: Error | null | undefined, value: BinaryValue) => void): void;
  unwatch(cb?: (err: Error | null | undefined, value: BinaryValue) => void): void;
  unexport(): void;
}
interface OnoffModule {
  Gpio: { new (gpio: number, direction: string, edge?: string, options?: object): OnoffGpio; readonly accessible: boolean };
}

async function onoff(): Promise<OnoffModule> {
  try {
    const m = (await import('onoff')) as unknown as { default?: OnoffModule } & OnoffModule;
    const mod = m.Gpio ? m : m.default!;
    if (!mod.Gpio.accessible)
      throw new HardwareUnavailableError(
        'GPIO is not accessible on this machine (no /sys/class/gpio, or no permission: add the user to the gpio group)',
      );
    return mod;
  } catch (err) {
    if (err instanceof HardwareUnavailableError) throw err;
    throw new HardwareUnavailableError(`the onoff module is not installed or did not build (${(err as Error).message})`);
  }
}

/** sysfs GPIO number for a BCM pin: the Pi's pin controller chip base plus the BCM number. */
export function sysfsNumber(bcm: number, root = '/sys/class/gpio'): number {
  if (!existsSync(root)) return bcm;
  for (const chip of readdirSync(root).filter((d) => d.startsWith('gpiochip'))) {
    try {
      const label = readFileSync(`${root}/${chip}/label`, 'utf8').trim();
      if (/pinctrl-bcm2835|pinctrl-bcm2711|pinctrl-bcm2712|pinctrl-rp1|raspberrypi/.test(label)) {
        return Number(readFileSync(`${root}/${chip}/base`, 'utf8').trim()) + bcm;
      }
    } catch {
      // an unreadable chip entry is not ours
    }
  }
  return bcm;
}

/** An input watched for falling edges (the MAX30102 INT line is open-drain, active low). */
export async function openOnoffInput(bcm: number, edge: 'falling' | 'both' = 'falling'): Promise<GpioInput> {
  const { Gpio } = await onoff();
  // debounceTimeout: onoff ignores contact bounce in the kernel-edge path for buttons.
  const pin =
    edge === 'both' ? new Gpio(sysfsNumber(bcm), 'in', 'both', { debounceTimeout: 10 }) : new Gpio(sysfsNumber(bcm), 'in', 'falling');
  const handlers = new Set<(err: Error | null | undefined, value: BinaryValue) => void>();
  return {
    read: () => pin.read(),
    watch(onEdge) {
      const h = (err: Error | null | undefined, value: BinaryValue) => {
        if (!err) onEdge(value);
      };
      handlers.add(h);
      pin.watch(h);
      return () => {
        handlers.delete(h);
        pin.unwatch(h);
      };
    },
    async close() {
      pin.unwatch();
      pin.unexport();
    },
  };
}

/** An output such as the alarm LED or the buzzer driver transistor; starts low. */
export async function openOnoffOutput(bcm: number): Promise<GpioOutput> {
  const { Gpio } = await onoff();
  const pin = new Gpio(sysfsNumber(bcm), 'low');
  let closed = false;
  return {
    async write(value) {
      if (!closed) await pin.write(value);
    },
    async close() {
      if (closed) return;
      closed = true;
      await pin.write(0).catch(() => {});
      pin.unexport();
    },
  };
}

export async function gpioAccessible(): Promise<boolean> {
  try {
    await onoff();
    return true;
  } catch {
    return false;
  }
}
