/**
 * Signal quality index: one number from 0 to 1 and the reasons it is low,
 * from features of one analysis window. Each feature maps to a factor in
 * 0..1; the index is their product, so any single failure (no pulse,
 * clipping, motion, disagreement between the rhythm estimators) is enough to
 * pull it down. Thresholds were tuned on the recordings listed as "tuning"
 * in docs/SIGNAL.md and are reported on the others.
 */
import type { QualityReason } from '../../protocol/schemas.ts';

export interface WindowFeatures {
  /** Normalised autocorrelation at the pulse period (0 when none found). */
  periodicity: number;
  /** Mean beat-to-template correlation. */
  template: number;
  /** |HR from beats − HR from autocorrelation| / HR, NaN when either is missing. */
  rateDisagreement: number;
  /** Share of regular beat intervals. */
  regularity: number;
  /** Peak-to-peak excursion of the window over the median beat amplitude. */
  motionIndex: number;
  /** Share of raw samples at the ADC's full scale (or at zero). */
  clippedFraction: number;
  /** Unannounced one-sample jumps of more than 15 % in the window (both channels). */
  jumps: number;
  /** Perfusion index of the primary channel, % (NaN when unknown). */
  perfusionIndex: number;
  /** Raw DC of the primary channel as a share of full scale. */
  dcFraction: number;
  /** Red/IR correlation, NaN when only one channel is present. */
  channelCorrelation: number;
  /** The rhythm could be half or double the rate found. */
  rateAmbiguous: boolean;
  /** No beat in the last ~2 periods: the pulse stopped (or the finger left) inside the window. */
  pulseLost: boolean;
  /** Median beat amplitude over that of recent trusted windows (NaN before any). */
  amplitudeRatio: number;
  /** Median beat amplitude over the lower quartile of the last minute's pulse-bearing windows, trusted or not (NaN before five). */
  amplitudeJump: number;
  /** Peak-to-peak excursion of the window over the trusted beat amplitude (NaN before any). */
  excursionRatio: number;
  /** Mean absolute deviation of beat amplitudes over their median. */
  amplitudeSpread: number;
  /** Sharpest second difference of the absorbance (before the band-pass) over the beat amplitude: spikes. */
  spikiness: number;
  /** Energy of the second difference over the energy, relative to a sinusoid at the pulse rate: a pulse is smooth, in-band noise is rough. */
  roughness: number;
}

export const QUALITY = {
  /** Below this the HR is null. */
  hrMinSqi: 0.5,
  /** Below this the SpO2 is null (R needs a cleaner pulse than the rate does). */
  spo2MinSqi: 0.6,
  /** Red and IR must see the same pulse for R to mean anything. */
  spo2MinChannelCorrelation: 0.9,
  /** Perfusion index (%) under which the pulse is too weak to trust; full trust from twice that. */
  minPerfusionIndex: 0.03,
  /** No finger: raw DC under this share of full scale and no pulse. */
  noFingerDcFraction: 0.02,
  maxClippedFraction: 0.01,
  /** Beats this many times larger than the recent trusted pulse are motion. */
  maxAmplitudeRatio: 2.5,
  /** Beats this many times larger than the last minute's usual pulse are motion (a looser yardstick: it is not vetted). */
  maxAmplitudeJump: 3,
  /** A window swinging this many trusted pulse amplitudes peak to peak is motion. */
  maxExcursionRatio: 4,
  /** Second difference over beat amplitude above which a window holds spikes (clean ≲ 0.35 on the tuning set). */
  maxSpikiness: 0.6,
} as const;

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));

/**
 * The window features the quality model weighs, transformed so that each is
 * roughly linear in log-odds. Missing features (one channel, no trusted
 * amplitude yet) take the value a clean window would have, so they neither
 * raise nor sink the index.
 */
export function sqiFeatureVector(f: WindowFeatures, out: Float64Array = new Float64Array(SQI_FEATURES.length)): Float64Array {
  const finite = (v: number, fallback: number) => (Number.isFinite(v) ? v : fallback);
  out[0] = f.periodicity;
  out[1] = f.template;
  out[2] = Math.min(0.5, finite(f.rateDisagreement, 0.5));
  out[3] = f.regularity;
  out[4] = Math.log(Math.min(50, Math.max(1, finite(f.motionIndex, 50))));
  out[5] = Math.log(Math.min(50, Math.max(0.5, finite(f.excursionRatio, 1.4))));
  out[6] = Math.abs(Math.log(Math.min(50, Math.max(0.02, finite(f.amplitudeRatio, 1)))));
  out[7] = Math.log(finite(f.amplitudeSpread, 2) + 0.02);
  out[8] = finite(f.channelCorrelation, 1);
  out[9] = f.rateAmbiguous ? 1 : 0;
  out[10] = Math.log(Math.min(1000, Math.max(0.1, finite(f.roughness, 100))));
  out[11] = Math.log(Math.min(100, Math.max(0.01, finite(f.spikiness, 10))));
  return out;
}

export const SQI_FEATURES = [
  'periodicity',
  'template',
  'rateDisagreement',
  'regularity',
  'ln motionIndex',
  'ln excursionRatio',
  '|ln amplitudeRatio|',
  'ln amplitudeSpread',
  'channelCorrelation',
  'rateAmbiguous',
  'ln roughness',
  'ln spikiness',
] as const;

/**
 * Logistic model of P(clean window | features), fitted by
 * `npx tsx test/bench/lib/fit-sqi.ts --data ../shared/data` on the tuning
 * recordings only (Welltory tuning subjects and unlabelled alsementsov files,
 * clean against injected corruption, classes weighted equally, L2 0.01 on
 * standardised weights, each weight held to its expected sign).
 */
export const SQI_MODEL = {
  bias: -19.931,
  weights: [0.0, 9.065, 0.0, 3.104, 0.0, 0.0, 0.0, -0.654, 8.02, -1.496, 0.0, -0.306],
} as const;

const vector = new Float64Array(SQI_FEATURES.length);

export function assessQuality(f: WindowFeatures, reasons: QualityReason[]): number {
  sqiFeatureVector(f, vector);
  let z = SQI_MODEL.bias;
  for (let i = 0; i < vector.length; i++) z += SQI_MODEL.weights[i]! * vector[i]!;
  const model = 1 / (1 + Math.exp(-z));
  // Hard gates: each of these alone means no number, whatever the model says.
  const unclipped = f.clippedFraction > QUALITY.maxClippedFraction ? 0 : 1;
  const perfused = Number.isNaN(f.perfusionIndex) ? 0 : clamp01(f.perfusionIndex / QUALITY.minPerfusionIndex - 1);
  // A pulse that shrank to a fraction of itself within seconds is lost, not weak.
  const present = Number.isNaN(f.amplitudeRatio) ? 1 : clamp01((f.amplitudeRatio - 0.15) / 0.15);
  // The two rhythm estimators must agree and the rate must not be ambiguous: these guard the number itself.
  const agree = Number.isNaN(f.rateDisagreement) ? 0 : clamp01(1 - (f.rateDisagreement - 0.05) / 0.15);
  const unambiguous = f.rateAmbiguous ? 0.5 : 1;
  // Motion: the window swings far beyond its own beats, or beyond the pulse seen a moment ago.
  const jump = Number.isFinite(f.amplitudeRatio) ? clamp01(1 - (f.amplitudeRatio - QUALITY.maxAmplitudeRatio) / 1.5) : 1;
  const settled = Number.isFinite(f.amplitudeJump) ? clamp01(1 - (f.amplitudeJump - QUALITY.maxAmplitudeJump) / 2) : 1;
  const swing = Number.isFinite(f.excursionRatio) ? clamp01(1 - (f.excursionRatio - QUALITY.maxExcursionRatio) / 2) : 1;
  // Spikes (a knock on the sensor, a loose contact): edges far sharper than any heartbeat's.
  const smooth = Number.isFinite(f.spikiness) ? clamp01(1 - (f.spikiness - QUALITY.maxSpikiness) / QUALITY.maxSpikiness) : 1;
  // Jumps larger than any pulse with no LED-step mark: each is cancelled, but the window is not to be trusted.
  const steadyLevel = f.jumps > 1 ? 0 : 1;
  const still = clamp01(1 - (f.motionIndex - 2.5) / 2.5) * jump * settled * swing * smooth * steadyLevel;
  // Eight seconds of a real pulse repeat themselves; a window that does not is no basis for a rate.
  const periodic = clamp01((f.periodicity - 0.25) / 0.2);
  const sqi = f.pulseLost ? 0 : clamp01(model * periodic * agree * unambiguous * still * unclipped * perfused * present);

  // Reasons: what a technician can act on, by simple rules on the same features.
  const pulse = 0.5 * f.periodicity + 0.5 * f.template;
  const moving = still < 1;
  if (!unclipped) reasons.push('clipping');
  else if (f.dcFraction < QUALITY.noFingerDcFraction && pulse < 0.5) reasons.push('no-finger');
  if ((perfused < 1 || present < 1 || f.pulseLost) && unclipped) reasons.push('low-perfusion');
  if (moving) reasons.push('motion');
  if ((f.regularity < 0.7 || f.rateAmbiguous) && pulse >= 0.5) reasons.push('irregular');
  if (!Number.isNaN(f.channelCorrelation) && f.channelCorrelation < QUALITY.spo2MinChannelCorrelation && pulse >= 0.5) {
    reasons.push('channel-disagreement');
  }
  return sqi;
}
