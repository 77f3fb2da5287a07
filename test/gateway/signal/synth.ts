/**
 * Small synthetic PPG for unit tests: a two-harmonic pulse (systolic peak and
 * dicrotic wave) on a DC level, red amplitude set through the max30102 curve
 * so the SpO2 truth is known, deterministic noise.
 */
import { getCalibration, ratioFromSpo2 } from '../../../gateway/signal/calibrations.ts';

export interface SynthOptions {
  rateHz: number;
  bpm: number;
  spo2: number;
  seconds: number;
  /** Noise RMS relative to the pulse amplitude. */
  noise: number;
  seed: number;
  /** IR perfusion index, % (default 2). */
  pi?: number;
}

import { mulberry32 } from '../../../firmware-bridge/sources/random.ts';

export { mulberry32 };

export function synthPpg(o: SynthOptions): { rateHz: number; red: Float64Array; ir: Float64Array } {
  const n = Math.round(o.rateHz * o.seconds);
  const red = new Float64Array(n);
  const ir = new Float64Array(n);
  const rand = mulberry32(o.seed);
  const r = ratioFromSpo2(getCalibration('max30102'), o.spo2);
  const piIr = (o.pi ?? 2) / 100;
  let phase = 0;
  for (let i = 0; i < n; i++) {
    phase += (2 * Math.PI * o.bpm) / 60 / o.rateHz;
    // Normalised pulse with peak-to-peak ≈ 1.
    const pulse = (Math.sin(phase) + 0.35 * Math.sin(2 * phase - 1.2)) / 2.1;
    const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    ir[i] = 100_000 * (1 - piIr * (pulse + o.noise * gauss()));
    red[i] = 70_000 * (1 - r * piIr * (pulse + o.noise * gauss()));
  }
  return { rateHz: o.rateHz, red, ir };
}
