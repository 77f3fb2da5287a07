/**
 * The I2C seam over the `i2c-bus` package (Linux i2c-dev). Imported dynamically so the project
 * loads on machines without the native module. i2c-bus opens lazily and only fails on first use,
 * so the device node is checked first to give a clear message instead of a late EIO.
 */
import { existsSync } from 'node:fs';
import type { I2CBus } from './i2c.ts';

export class HardwareUnavailableError extends Error {
  override name = 'HardwareUnavailableError';
}

export function i2cDevicePath(busNumber: number): string {
  return `/dev/i2c-${busNumber}`;
}

export function i2cPresent(busNumber: number): boolean {
  return existsSync(i2cDevicePath(busNumber));
}

interface I2cBusModule {
  openPromisified(busNumber: number): Promise<I2CBus>;
}

export async function openHardwareI2c(busNumber = 1): Promise<I2CBus> {
  const dev = i2cDevicePath(busNumber);
  if (!existsSync(dev)) {
    throw new HardwareUnavailableError(
      `${dev} does not exist: enable I2C (raspi-config → Interface Options → I2C, or dtparam=i2c_arm=on in /boot/firmware/config.txt) and reboot; see docs/HARDWARE.md`,
    );
  }
  let mod: I2cBusModule;
  try {
    const name = 'i2c-bus'; // a variable keeps TypeScript from requiring its (absent) type declarations
    const imported = (await import(name)) as unknown as { default?: I2cBusModule } & I2cBusModule;
    mod = imported.default ?? imported;
  } catch (err) {
    throw new HardwareUnavailableError(
      `the i2c-bus module is not installed or did not build (${(err as Error).message}); run npm install on the gateway`,
    );
  }
  try {
    return await mod.openPromisified(busNumber);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EACCES' ? ': add the gateway user to the i2c group' : '';
    throw new HardwareUnavailableError(`cannot open ${dev} (${code ?? (err as Error).message})${hint}`);
  }
}
