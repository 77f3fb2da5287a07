/**
 * ECG R-peak detector for the reference heart rate (BIDMC lead II), after
 * Pan & Tompkins (IEEE TBME 1985): band-pass 5–15 Hz, derivative, squaring,
 * 150 ms moving integration, adaptive signal/noise thresholds with search-back
 * for a missed beat, 200 ms refractory period; the R peak is then the highest
 * raw sample around the detection (lead II: R is positive).
 */
import { Biquad } from '../../../gateway/signal/filters.ts';

export function detectRPeaks(ecg: Float64Array, fs: number): number[] {
  const n = ecg.length;
  const hp = Biquad.highpass(5, fs);
  const lp = Biquad.lowpass(15, fs);
  const hp2 = Biquad.highpass(5, fs);
  const lp2 = Biquad.lowpass(15, fs);
  const bp = new Float64Array(n);
  for (let i = 0; i < n; i++) bp[i] = lp2.step(lp.step(hp2.step(hp.step(ecg[i]!))));
  const win = Math.max(1, Math.round(0.15 * fs));
  const integ = new Float64Array(n);
  let acc = 0;
  const sq = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    const d = bp[i]! - bp[i - 1]!;
    sq[i] = d * d;
    acc += sq[i]!;
    if (i >= win) acc -= sq[i - win]!;
    integ[i] = acc / win;
  }
  // Initialise thresholds from the first 2 s.
  const init = Math.min(n, Math.round(2 * fs));
  let spk = 0;
  for (let i = 0; i < init; i++) spk = Math.max(spk, integ[i]!);
  spk *= 0.5;
  let npk = 0;
  let mean = 0;
  for (let i = 0; i < init; i++) mean += integ[i]!;
  npk = (mean / Math.max(1, init)) * 0.5;
  const refractory = Math.round(0.2 * fs);
  const detections: number[] = [];
  const rr: number[] = [];
  let last = -refractory;
  let lastPeakValue = 0;
  for (let i = 1; i + 1 < n; i++) {
    const v = integ[i]!;
    if (!(v > integ[i - 1]! && v >= integ[i + 1]!)) continue;
    const threshold = npk + 0.25 * (spk - npk);
    if (v > threshold && i - last > refractory) {
      // Search back for a missed beat when the gap exceeds 1.66 × the mean RR.
      const meanRr = rr.length ? rr.slice(-8).reduce((a, b) => a + b, 0) / Math.min(8, rr.length) : 0;
      if (meanRr > 0 && i - last > 1.66 * meanRr) {
        let best = -1;
        for (let j = last + refractory; j < i - refractory; j++) {
          if (integ[j]! > 0.5 * threshold && (best < 0 || integ[j]! > integ[best]!)) best = j;
        }
        if (best > 0) {
          detections.push(best);
          rr.push(best - last);
          last = best;
        }
      }
      detections.push(i);
      if (last >= 0) rr.push(i - last);
      last = i;
      lastPeakValue = v;
      spk = 0.125 * v + 0.875 * spk;
    } else if (v <= threshold) {
      npk = 0.125 * v + 0.875 * npk;
    } else if (v > lastPeakValue) {
      // A larger peak inside the refractory period: it was the real one.
      detections[detections.length - 1] = i;
      last = i;
      lastPeakValue = v;
    }
  }
  // Locate the R peak on the raw ECG near each detection (the filters and the integrator lag by up to ~win);
  // lead II's R wave is its largest positive deflection.
  const half = Math.round(0.1 * fs);
  const peaks: number[] = [];
  for (const d of detections) {
    let best = Math.max(0, d - win - half);
    for (let j = best; j <= Math.min(n - 1, d + half); j++) if (ecg[j]! > ecg[best]!) best = j;
    if (peaks.length === 0 || best - peaks.at(-1)! > refractory) peaks.push(best);
  }
  return peaks;
}
