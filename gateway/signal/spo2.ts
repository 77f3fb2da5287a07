/**
 * Ratio of ratios from band-passed absorbance. Because the pipeline works on
 * −ln(raw), the band-passed signal is already AC/DC for each wavelength, so
 * R = (ACred/DCred)/(ACir/DCir) is the least-squares slope of red on IR over
 * the window (noise on the red channel alone does not bias it, unlike a ratio
 * of RMS amplitudes). The red/IR correlation says whether both channels see the same
 * pulse; when they do not (motion, venous pulsation, ambient light on one
 * LED), R is meaningless and the caller must not turn it into SpO2.
 */
export interface RatioOfRatios {
  r: number;
  /** Pearson correlation of red and IR over the window, −1..1. */
  correlation: number;
}

export function ratioOfRatios(red: Float64Array, ir: Float64Array, n: number): RatioOfRatios {
  let mr = 0;
  let mi = 0;
  for (let i = 0; i < n; i++) {
    mr += red[i]!;
    mi += ir[i]!;
  }
  mr /= n;
  mi /= n;
  let srr = 0;
  let sii = 0;
  let sri = 0;
  for (let i = 0; i < n; i++) {
    const a = red[i]! - mr;
    const b = ir[i]! - mi;
    srr += a * a;
    sii += b * b;
    sri += a * b;
  }
  if (!(sii > 0 && srr > 0)) return { r: Number.NaN, correlation: 0 };
  return { r: sri / sii, correlation: sri / Math.sqrt(srr * sii) };
}
