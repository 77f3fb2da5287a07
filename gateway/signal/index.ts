/**
 * The signal layer's public surface: the streaming pipeline the gateway and
 * the alarm CLI call, and a whole-recording convenience for the analyze CLI
 * and the benchmarks.
 */
import type { QualityReason } from '../../protocol/schemas.ts';
import { type PipelineOptions, type VitalsEstimate, VitalsPipeline } from './pipeline.ts';

export type { Calibration, CurveForm } from './calibrations.ts';
export {
  CALIBRATIONS,
  DEFAULT_CALIBRATION,
  getCalibration,
  ratioFromSpo2,
  spo2FromRatio,
  UnknownCalibrationError,
} from './calibrations.ts';
export {
  INTERNAL_RATE,
  MAX30102_FULL_SCALE,
  type PipelineOptions,
  type VitalsEstimate,
  VitalsPipeline,
  WARM_UP_S,
  WINDOW_S,
} from './pipeline.ts';
export type { QualityReason };

/** What the pipeline needs from a parsed recording (firmware-bridge's Recording satisfies it). */
export interface SampledRecording {
  rateHz: number;
  red?: Float64Array;
  ir?: Float64Array;
}

export interface RecordingSummary {
  hr: number | null;
  spo2: number | null;
  sqi: number;
  /** Median ratio of ratios over the estimates that gave an SpO2. */
  r: number | null;
}

export interface RecordingAnalysis {
  estimates: VitalsEstimate[];
  summary: RecordingSummary;
}

/**
 * Run a whole recording through the pipeline. The summary is the median of
 * the per-second values that were not null (SQI: the mean); a recording
 * shorter than a few seconds past warm-up is also judged once on all of it.
 */
export function analyzeRecording(rec: SampledRecording, opts: Omit<PipelineOptions, 'rateHz'> = {}): RecordingAnalysis {
  const n = Math.max(rec.red?.length ?? 0, rec.ir?.length ?? 0);
  const pipeline = new VitalsPipeline({ ...opts, rateHz: rec.rateHz });
  const estimates: VitalsEstimate[] = [];
  for (let i = 0; i < n; i++) {
    const e = pipeline.push(rec.red ? rec.red[i]! : Number.NaN, rec.ir ? rec.ir[i]! : Number.NaN);
    if (e) estimates.push(e);
  }
  const pool = [...estimates];
  const last = estimates.at(-1);
  if (n > 0 && (!last || last.t < n / rec.rateHz - 0.25) && pool.filter((e) => e.hr !== null).length < 3) {
    pool.push(pipeline.estimate());
  }
  return { estimates, summary: summarize(pool) };
}

export function summarize(estimates: readonly VitalsEstimate[]): RecordingSummary {
  const med = (values: number[]) => {
    if (values.length === 0) return null;
    const s = [...values].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length & 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const hr = med(estimates.flatMap((e) => (e.hr === null ? [] : [e.hr])));
  const spo2 = med(estimates.flatMap((e) => (e.spo2 === null ? [] : [e.spo2])));
  const r = med(estimates.flatMap((e) => (e.r === null ? [] : [e.r])));
  const sqi = estimates.length ? estimates.reduce((s, e) => s + e.sqi, 0) / estimates.length : 0;
  const round = (v: number | null, k: number) => (v === null ? null : Math.round(v * k) / k);
  return { hr: round(hr, 10), spo2: round(spo2, 10), sqi: Math.round(sqi * 1000) / 1000, r };
}
