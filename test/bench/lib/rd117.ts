/**
 * Port of Maxim's reference algorithm for the MAXREFDES117 (RD117),
 * `maxim_heart_rate_and_oxygen_saturation` from algorithm.cpp as shipped with
 * the RD117 firmware and its Arduino ports: 25 samples/s, a 100-sample (4 s)
 * window, valleys of the inverted, 4-point-averaged IR as beats, HR from the
 * mean valley interval, R from AC/DC between valleys (median of up to five),
 * SpO2 from the lookup table of -45.060·R² + 30.354·R + 94.845. Integer
 * arithmetic is kept where it changes results (the C code's truncations).
 * The field's baseline; used only by the benchmarks.
 */

export const RD117_FS = 25;
export const RD117_BUFFER = RD117_FS * 4;
const MA4 = 4;

// uch_spo2_table[184]: -45.060·r² + 30.354·r + 94.845 for r = ratio/100, as in the firmware.
const SPO2_TABLE = [
  95, 95, 95, 96, 96, 96, 97, 97, 97, 97, 97, 98, 98, 98, 98, 98, 99, 99, 99, 99, 99, 99, 99, 99, 100, 100, 100, 100, 100, 100, 100, 100,
  100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 99, 99, 99, 99, 99, 99, 99, 99, 98, 98, 98, 98, 98, 98, 97, 97, 97, 97, 96,
  96, 96, 96, 95, 95, 95, 94, 94, 94, 93, 93, 93, 92, 92, 92, 91, 91, 90, 90, 89, 89, 89, 88, 88, 87, 87, 86, 86, 85, 85, 84, 84, 83, 82,
  82, 81, 81, 80, 80, 79, 78, 78, 77, 76, 76, 75, 74, 74, 73, 72, 72, 71, 70, 69, 69, 68, 67, 66, 66, 65, 64, 63, 62, 62, 61, 60, 59, 58,
  57, 56, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 31, 30, 29, 28, 27, 26, 25, 23,
  22, 21, 20, 19, 17, 16, 15, 14, 12, 11, 10, 9, 7, 6, 5, 3, 2, 1,
];

export interface Rd117Result {
  hr: number | null;
  spo2: number | null;
  /** ratio·100 behind the SpO2 (the table index), null when invalid. */
  ratio: number | null;
}

const idiv = (a: number, b: number) => Math.trunc(a / b);

/** One run of the algorithm over exactly RD117_BUFFER samples of IR and red (raw counts). */
export function rd117(ir: ArrayLike<number>, red: ArrayLike<number>): Rd117Result {
  const n = RD117_BUFFER;
  const x = new Array<number>(n);
  const y = new Array<number>(n);
  let mean = 0;
  for (let k = 0; k < n; k++) mean += Math.trunc(ir[k]!);
  mean = idiv(mean, n);
  // Remove DC and invert, so the peak detector finds valleys.
  for (let k = 0; k < n; k++) x[k] = -1 * (Math.trunc(ir[k]!) - mean);
  for (let k = 0; k < n - MA4; k++) x[k] = idiv(x[k]! + x[k + 1]! + x[k + 2]! + x[k + 3]!, 4);
  let th1 = 0;
  for (let k = 0; k < n; k++) th1 += x[k]!;
  th1 = idiv(th1, n);
  th1 = Math.min(60, Math.max(30, th1));
  const valleys = findPeaks(x, n, th1, 4, 15);

  let hr: number | null = null;
  if (valleys.length >= 2) {
    let sum = 0;
    for (let k = 1; k < valleys.length; k++) sum += valleys[k]! - valleys[k - 1]!;
    sum = idiv(sum, valleys.length - 1);
    hr = sum > 0 ? idiv(RD117_FS * 60, sum) : null;
  }

  for (let k = 0; k < n; k++) {
    x[k] = Math.trunc(ir[k]!);
    y[k] = Math.trunc(red[k]!);
  }
  for (const v of valleys) if (v > n) return { hr, spo2: null, ratio: null };
  const ratios: number[] = [];
  for (let k = 0; k < valleys.length - 1; k++) {
    const a = valleys[k]!;
    const b = valleys[k + 1]!;
    if (b - a <= 3) continue;
    let yMax = -16777216;
    let xMax = -16777216;
    let yIdx = a;
    let xIdx = a;
    for (let i = a; i < b; i++) {
      if (x[i]! > xMax) {
        xMax = x[i]!;
        xIdx = i;
      }
      if (y[i]! > yMax) {
        yMax = y[i]!;
        yIdx = i;
      }
    }
    let yAc = (y[b]! - y[a]!) * (yIdx - a);
    yAc = y[a]! + idiv(yAc, b - a);
    yAc = y[yIdx]! - yAc;
    let xAc = (x[b]! - x[a]!) * (xIdx - a);
    xAc = x[a]! + idiv(xAc, b - a);
    // The firmware reads IR at the red maximum's index here; kept as shipped.
    xAc = x[yIdx]! - xAc;
    const nume = Math.floor((yAc * xMax) / 128);
    const denom = Math.floor((xAc * yMax) / 128);
    if (denom > 0 && ratios.length < 5 && nume !== 0) ratios.push(idiv(nume * 100, denom));
  }
  ratios.sort((p, q) => p - q);
  const mid = ratios.length >> 1;
  let ratio: number;
  if (mid > 1) ratio = idiv(ratios[mid - 1]! + ratios[mid]!, 2);
  else ratio = ratios[mid] ?? 0;
  if (ratio > 2 && ratio < 184) return { hr, spo2: SPO2_TABLE[ratio]!, ratio };
  return { hr, spo2: null, ratio: null };
}

/** maxim_find_peaks: peaks above a height, at least `minDistance` apart (largest first), at most `maxNum`. */
function findPeaks(x: number[], size: number, minHeight: number, minDistance: number, maxNum: number): number[] {
  let locs: number[] = [];
  let i = 1;
  while (i < size - 1) {
    if (x[i]! > minHeight && x[i]! > x[i - 1]!) {
      let width = 1;
      while (i + width < size && x[i] === x[i + width]) width++;
      if (x[i]! > (x[i + width] ?? Number.POSITIVE_INFINITY) && locs.length < 15) {
        locs.push(i);
        i += width + 1;
      } else i += width;
    } else i++;
  }
  // maxim_remove_close_peaks: keep the largest, drop neighbours within minDistance.
  locs.sort((a, b) => x[b]! - x[a]!);
  for (let p = -1; p < locs.length; p++) {
    const kept = locs.slice(0, p + 1);
    for (let j = p + 1; j < locs.length; j++) {
      const dist = locs[j]! - (p === -1 ? -1 : locs[p]!);
      if (dist > minDistance || dist < -minDistance) kept.push(locs[j]!);
    }
    locs = kept;
  }
  locs.sort((a, b) => a - b);
  return locs.slice(0, maxNum);
}

/**
 * Run RD117 the way its firmware does: fill 100 samples, then every 25 new
 * samples (1 s) recompute over the last 100. Input must be at 25 Hz.
 */
export function rd117Stream(ir: Float64Array, red: Float64Array): Array<Rd117Result & { t: number }> {
  const out: Array<Rd117Result & { t: number }> = [];
  for (let end = RD117_FS; end <= ir.length; end += RD117_FS) {
    if (end < RD117_BUFFER) {
      out.push({ t: end / RD117_FS, hr: null, spo2: null, ratio: null });
      continue;
    }
    const r = rd117(ir.subarray(end - RD117_BUFFER, end), red.subarray(end - RD117_BUFFER, end));
    out.push({ t: end / RD117_FS, ...r });
  }
  return out;
}
