import { VirtualClock } from '../../firmware-bridge/clock.ts';
import { Max30102Emulator } from '../../firmware-bridge/max30102/emulator.ts';
import { encodeFifoConfig, encodeSpo2Config, MAX30102_ADDRESS, MODE, REG } from '../../firmware-bridge/max30102/registers.ts';
import type { OpticalSample, OpticalSource } from '../../firmware-bridge/sources/optical.ts';

export const A = MAX30102_ADDRESS;

/** A light source that returns fixed counts (or whatever `fn` says), recording when it was asked. */
export function constantSource(red = 100000, ir = 150000, fn?: (tS: number) => OpticalSample): OpticalSource & { times: number[] } {
  const times: number[] = [];
  return {
    description: 'constant',
    times,
    at(tS: number) {
      times.push(tS);
      return fn ? fn(tS) : { red, ir };
    },
  };
}

export function emulator(source: OpticalSource = constantSource(), clock = new VirtualClock()) {
  return { emu: new Max30102Emulator({ source, clock }), clock };
}

/** Puts the emulated chip in SpO2 mode the way the driver would, without the driver. */
export async function configure(
  emu: Max30102Emulator,
  opts: {
    rate?: 50 | 100 | 200 | 400 | 800 | 1000 | 1600 | 3200;
    rollover?: boolean;
    aFull?: number;
    pw?: 69 | 118 | 215 | 411;
    range?: 2048 | 4096 | 8192 | 16384;
  } = {},
) {
  await emu.writeByte(A, REG.FIFO_CONFIG, encodeFifoConfig(1, opts.rollover ?? false, opts.aFull ?? 15));
  await emu.writeByte(A, REG.SPO2_CONFIG, encodeSpo2Config(opts.range ?? 4096, opts.rate ?? 100, opts.pw ?? 411));
  await emu.writeByte(A, REG.LED1_PA, 0x20);
  await emu.writeByte(A, REG.LED2_PA, 0x20);
  await emu.writeByte(A, REG.MODE_CONFIG, MODE.SPO2);
}

export async function readSamples(emu: Max30102Emulator, n: number): Promise<{ red: number; ir: number; rawRed: number }[]> {
  const out: { red: number; ir: number; rawRed: number }[] = [];
  for (let i = 0; i < n; i++) {
    const b = (await emu.readI2cBlock(A, REG.FIFO_DATA, 6, Buffer.alloc(6))).buffer;
    const rawRed = (b[0]! << 16) | (b[1]! << 8) | b[2]!;
    out.push({ rawRed, red: rawRed & 0x3ffff, ir: ((b[3]! << 16) | (b[4]! << 8) | b[5]!) & 0x3ffff });
  }
  return out;
}
