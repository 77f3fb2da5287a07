/**
 * Per-sensor R-to-SpO2 calibration curves: named, versioned, selected by
 * configuration. R is the ratio of ratios (ACred/DCred) / (ACir/DCir).
 *
 * A curve is a quadratic SpO2 = a·R² + b·R + c (the default form), or
 * SpO2 = b·ln R + c (form `log`): decreasing and convex everywhere with two
 * parameters, the shape Beer–Lambert gives (SpO2 is a ratio of two lines in
 * R, which flattens as R grows). Either must be strictly decreasing over its
 * validity range [rMin, rMax]; outside that range the sensor was never
 * calibrated, so `spo2FromRatio` answers null rather than extrapolate (a
 * confident wrong number is the worst possible output).
 */

/** `quadratic` (default when absent): a·R² + b·R + c; `log`: b·ln R + c (a is 0). */
export type CurveForm = 'quadratic' | 'log';

export interface Calibration {
  readonly name: string;
  readonly version: string;
  /** Where the coefficients come from, for the technical file. */
  readonly source: string;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly form?: CurveForm;
  /** R values the curve is trusted for. */
  readonly rMin: number;
  readonly rMax: number;
}

export class UnknownCalibrationError extends Error {
  constructor(readonly calibration: string) {
    super(`unknown calibration "${calibration}" (known: ${Object.keys(CALIBRATIONS).join(', ')})`);
    this.name = 'UnknownCalibrationError';
  }
}

export const DEFAULT_CALIBRATION = 'max30102';

export const CALIBRATIONS: Readonly<Record<string, Calibration>> = Object.freeze({
  max30102: {
    name: 'max30102',
    version: '1',
    // Maxim application note 6845, "Guidelines for SpO2 measurement using the
    // Maxim MAX32664 sensor hub": default coefficients for the MAX30101/2 LEDs
    // without optical shield. Monotonic, unlike RD117's -45.06R²+30.354R+94.845.
    source: 'Maxim AN6845 default coefficients (MAX30101/MAX30102, no optical shield)',
    a: 1.5958422,
    b: -34.6596622,
    c: 112.6898759,
    // 100 % at R≈0.37; 60 % at R≈1.72 (AN6845 curve range).
    rMin: 0.3,
    rMax: 1.8,
  },
  maxm86161: {
    name: 'maxm86161',
    version: '2',
    // Least squares of the reference SpO2 on ln R over the per-recording R
    // (this module's estimator, median of the per-second values) of the
    // OxiWear proto1 recordings (MAXM86161 EVK on a finger, hypoxia 70–98 %,
    // 36 of 39 files gave an R). The log form (convex, like Beer–Lambert)
    // replaced version 1's line (−35.001·R + 111.607) after leave-one-out on
    // the same files; `npm run bench:accuracy` prints the refit, every form's
    // leave-one-out figures and a nested choice of form (docs/SIGNAL.md).
    // Valid over the R seen (0.336–1.198) widened by a quarter of that span
    // on each side.
    source: 'least squares on ln R, OxiWear proto1 (github.com/aarusso/OxiWear @78aa9f5), 36 recordings',
    a: 0,
    b: -25.381,
    c: 76.711,
    form: 'log',
    rMin: 0.1205,
    rMax: 1.4135,
  },
});

export function getCalibration(name: string = DEFAULT_CALIBRATION): Calibration {
  const cal = Object.hasOwn(CALIBRATIONS, name) ? CALIBRATIONS[name] : undefined;
  if (!cal) throw new UnknownCalibrationError(name);
  return cal;
}

/** The curve's raw value at R: no range check, no clamping (fitting, tests). */
export function curveValue(cal: Calibration, r: number): number {
  return cal.form === 'log' ? cal.b * Math.log(r) + cal.c : (cal.a * r + cal.b) * r + cal.c;
}

/** SpO2 in % for a ratio of ratios, clamped to 100; null outside the curve's validity range. */
export function spo2FromRatio(cal: Calibration, r: number): number | null {
  if (!Number.isFinite(r) || r < cal.rMin || r > cal.rMax) return null;
  return Math.min(100, Math.max(0, curveValue(cal, r)));
}

/** Inverse of the curve: the R a sensor would see at this SpO2 (for synthetic signals). */
export function ratioFromSpo2(cal: Calibration, spo2: number): number {
  if (cal.form === 'log') return Math.exp((spo2 - cal.c) / cal.b);
  if (cal.a === 0) return (spo2 - cal.c) / cal.b;
  // a·R² + b·R + (c − spo2) = 0; take the root inside the decreasing branch.
  const disc = cal.b * cal.b - 4 * cal.a * (cal.c - spo2);
  if (disc < 0) throw new RangeError(`SpO2 ${spo2} % is outside calibration ${cal.name}`);
  const sq = Math.sqrt(disc);
  // The roots straddle the vertex; the decreasing branch is the smaller root
  // for a > 0 and the larger one for a < 0.
  return cal.a > 0 ? (-cal.b - sq) / (2 * cal.a) : (-cal.b + sq) / (2 * cal.a);
}

/**
 * Fit a calibration to (R, SpO2) pairs by least squares: a line (`false`, the
 * default), a quadratic (`true` or 'quadratic'), or SpO2 = b·ln R + c ('log').
 */
export function fitCalibration(
  name: string,
  version: string,
  source: string,
  pairs: ReadonlyArray<{ r: number; spo2: number }>,
  shape: boolean | 'line' | CurveForm = false,
): Calibration {
  const quadratic = shape === true || shape === 'quadratic';
  const log = shape === 'log';
  if (pairs.length < (quadratic ? 3 : 2)) throw new RangeError('not enough points to fit a calibration');
  let rMin = Number.POSITIVE_INFINITY;
  let rMax = Number.NEGATIVE_INFINITY;
  for (const p of pairs) {
    if (log && !(p.r > 0)) throw new RangeError(`a log curve needs R > 0, got ${p.r}`);
    rMin = Math.min(rMin, p.r);
    rMax = Math.max(rMax, p.r);
  }
  // Normal equations for [R², R, 1] (or [R, 1], or [ln R, 1]).
  const cols = quadratic ? 3 : 2;
  const ata = Array.from({ length: cols }, () => new Array<number>(cols).fill(0));
  const aty = new Array<number>(cols).fill(0);
  for (const { r, spo2 } of pairs) {
    const row = quadratic ? [r * r, r, 1] : [log ? Math.log(r) : r, 1];
    for (let i = 0; i < cols; i++) {
      aty[i]! += row[i]! * spo2;
      for (let j = 0; j < cols; j++) ata[i]![j]! += row[i]! * row[j]!;
    }
  }
  const x = solve(ata, aty);
  const [a, b, c] = quadratic ? [x[0]!, x[1]!, x[2]!] : [0, x[0]!, x[1]!];
  const span = rMax - rMin;
  const widened = rMin - 0.25 * span;
  // A log curve is only defined for R > 0: keep its range clear of 0.
  const lo = widened > 0 ? widened : log ? 0.5 * rMin : 0;
  return { name, version, source, a, b, c, ...(log ? { form: 'log' as const } : {}), rMin: lo, rMax: rMax + 0.25 * span };
}

function solve(m: number[][], y: number[]): number[] {
  const n = y.length;
  const a = m.map((row, i) => [...row, y[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-12) throw new RangeError('calibration points are degenerate');
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r]![col]! / p;
      for (let k = col; k <= n; k++) a[r]![k]! -= f * a[col]![k]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}
