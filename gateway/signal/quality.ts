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
}

export const QUALITY = {
  /** Below this the HR is null. */
  hrMinSqi: 0.5,
  /** Below this the SpO2 is null (R needs a cleaner pulse than the rate does). */
  spo2MinSqi: 0.6,
  /** Red and IR must see the same pulse for R to mean anything. */
  spo2MinChannelCorrelation: 0.9,
  /** Perfusion index (%) under which the pulse is too weak to trust. */
  minPerfusionIndex: 0.02,
  /** No finger: raw DC under this share of full scale and no pulse. */
  noFingerDcFraction: 0.02,
  maxClippedFraction: 0.01,
} as const;

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));

export function assessQuality(f: WindowFeatures, reasons: QualityReason[]): number {
  const pulse = clamp01(0.5 * f.periodicity + 0.5 * f.template);
  const agree = Number.isNaN(f.rateDisagreement) ? 0 : clamp01(1 - (f.rateDisagreement - 0.05) / 0.15);
  const still = clamp01(1 - (f.motionIndex - 2.5) / 2.5);
  const unclipped = f.clippedFraction > QUALITY.maxClippedFraction ? 0 : 1;
  const perfused = Number.isNaN(f.perfusionIndex) ? 0 : clamp01(f.perfusionIndex / QUALITY.minPerfusionIndex);
  const regular = (0.6 + 0.4 * clamp01(f.regularity)) * (f.rateAmbiguous ? 0.5 : 1);
  const sqi = f.pulseLost ? 0 : clamp01(pulse * agree * still * unclipped * perfused * regular);

  if (f.clippedFraction > QUALITY.maxClippedFraction) reasons.push('clipping');
  else if (f.dcFraction < QUALITY.noFingerDcFraction && pulse < 0.5) reasons.push('no-finger');
  if ((perfused < 1 || f.pulseLost) && unclipped) reasons.push('low-perfusion');
  if (still < 1) reasons.push('motion');
  if ((f.regularity < 0.7 || f.rateAmbiguous) && pulse >= 0.5) reasons.push('irregular');
  if (!Number.isNaN(f.channelCorrelation) && f.channelCorrelation < QUALITY.spo2MinChannelCorrelation && pulse >= 0.5) {
    reasons.push('channel-disagreement');
  }
  return sqi;
}
