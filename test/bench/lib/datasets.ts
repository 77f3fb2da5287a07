/**
 * The recordings in the shared data folder the accuracy benchmark uses, read
 * through firmware-bridge's parsers, with what each method needs to run on
 * them (full scale, channels, reference).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadRecording, type Recording } from '../../../firmware-bridge/sources/recordings.ts';
import { RD117_FS } from './rd117.ts';

export const MAX30102_FULL_SCALE = 0x3ffff;
/** MAXM86161: 19-bit ADC (datasheet, "ADC resolution"). */
export const MAXM86161_FULL_SCALE = 0x7ffff;
/** Welltory: 8-bit camera frames averaged, so 255 is saturation. */
export const CAMERA_FULL_SCALE = 255;

export interface Dataset {
  name: string;
  rec: Recording;
  /** Channels the pipeline gets (raw intensity; NaN-free). */
  red?: Float64Array;
  ir?: Float64Array;
  fullScale: number;
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export function welltory(root: string): Dataset[] {
  const base = join(root, 'Welltory__welltory-ppg-dataset', 'data');
  return listDir(base).map((s) => {
    const rec = loadRecording(join(base, s, 'PPG.csv'));
    return { name: s, rec, red: rec.red!, fullScale: CAMERA_FULL_SCALE };
  });
}

/** BIDMC PLETH is a monitor's processed pleth (up = more blood); −(pleth) shifted to a positive intensity-like signal. */
export function bidmc(root: string): Dataset[] {
  const file = join(root, 'berkott__SciFairPPG', 'data', 'bidmc_01_Signals.csv');
  if (!existsSync(file)) return [];
  const rec = loadRecording(file);
  const pleth = rec.ir!;
  const ir = new Float64Array(pleth.length);
  for (let i = 0; i < ir.length; i++) ir[i] = 100_000 * (2 - pleth[i]!);
  return [{ name: 'bidmc_01', rec, ir, fullScale: MAX30102_FULL_SCALE }];
}

export function oxiwearProto1(root: string): Dataset[] {
  const base = join(root, 'aarusso__OxiWear', 'spo2-data', 'proto1');
  return listDir(base)
    .filter((f) => f.endsWith('.csv'))
    .map((f) => {
      const rec = loadRecording(join(base, f));
      return { name: f.replace(/\.csv$/, ''), rec, red: rec.red!, ir: rec.ir!, fullScale: MAXM86161_FULL_SCALE };
    });
}

export function alsementsov(root: string): Dataset[] {
  const base = join(root, 'alsementsov__MAX30102-Heart-and-Respiratory-rate-SPO2-library', 'CSV_rawdata');
  return listDir(base).flatMap((f) => {
    try {
      const rec = loadRecording(join(base, f));
      return [{ name: f, rec, red: rec.red!, ir: rec.ir!, fullScale: MAX30102_FULL_SCALE }];
    } catch {
      return [];
    }
  });
}

/**
 * The input RD117 expects: 25 samples/s (box-averaged like the sensor's own
 * sample averaging, then interpolated), in MAX30102-like counts so that its
 * fixed 30–60-count thresholds mean what they mean on the sensor.
 */
export function rd117Input(x: Float64Array, fs: number, gain = 1): Float64Array {
  const box = Math.max(1, Math.round(fs / RD117_FS));
  const smoothed = new Float64Array(x.length);
  let acc = 0;
  for (let i = 0; i < x.length; i++) {
    acc += x[i]!;
    if (i >= box) acc -= x[i - box]!;
    smoothed[i] = acc / Math.min(i + 1, box);
  }
  const n = Math.floor((x.length / fs) * RD117_FS);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const pos = (k * fs) / RD117_FS;
    const i = Math.floor(pos);
    const f = pos - i;
    out[k] = smoothed[i]! + f * ((smoothed[Math.min(i + 1, x.length - 1)] ?? smoothed[i]!) - smoothed[i]!);
  }
  if (gain !== 1) for (let k = 0; k < n; k++) out[k] = out[k]! * gain;
  return out;
}

/** Gain that brings a recording's mean to MAX30102-like 100 000 counts (RD117's thresholds assume sensor counts). */
export function countsGain(x: Float64Array): number {
  let m = 0;
  for (const v of x) m += v;
  return 100_000 / (m / x.length);
}
