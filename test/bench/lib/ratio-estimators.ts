/**
 * Other ways to get the ratio of ratios from a whole short recording, to see
 * whether the SpO2 error on OxiWear comes from the estimator or from the data:
 * both regress red on IR absorbance over the whole file, one after a
 * zero-phase band-pass, one on the first differences of a zero-phase
 * smoothed signal (no baseline to remove).
 */
import { Biquad } from '../../../gateway/signal/filters.ts';
import { ratioOfRatios } from '../../../gateway/signal/spo2.ts';

/** Red and IR must move together for R to mean anything (as in the pipeline). */
const MIN_CORRELATION = 0.8;

function zeroPhase(x: Float64Array, fs: number, lowHz: number, highHz: number): Float64Array {
  const pass = (v: Float64Array) => {
    const hp = Biquad.highpass(lowHz, fs);
    const lp = Biquad.lowpass(highHz, fs);
    hp.settle(v[0]!);
    lp.settle(0);
    return v.map((s) => lp.step(hp.step(s)));
  };
  return pass(pass(x).reverse()).reverse();
}

const absorbance = (raw: Float64Array) => Float64Array.from(raw, (v) => -Math.log(Math.max(v, 1)));

function slope(red: Float64Array, ir: Float64Array): number | null {
  const { r, correlation } = ratioOfRatios(red, ir, red.length);
  return correlation >= MIN_CORRELATION && Number.isFinite(r) ? r : null;
}

/** R over the whole file after a zero-phase 0.5–5 Hz band-pass (the pipeline's band). */
export function wholeFileRatio(red: Float64Array, ir: Float64Array, fs: number): number | null {
  return slope(zeroPhase(absorbance(red), fs, 0.5, 5), zeroPhase(absorbance(ir), fs, 0.5, 5));
}

/** R from the first differences of the absorbance, smoothed zero-phase below 4 Hz. */
export function derivativeRatio(red: Float64Array, ir: Float64Array, fs: number): number | null {
  const diff = (x: Float64Array) => x.subarray(1).map((v, i) => v - x[i]!);
  return slope(diff(zeroPhase(absorbance(red), fs, 0.05, 4)), diff(zeroPhase(absorbance(ir), fs, 0.05, 4)));
}
