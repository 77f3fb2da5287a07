/**
 * Corruption injected into good recordings, in the raw (intensity) domain the
 * sensor would produce, over given spans. Deterministic for a seed.
 */
import { Biquad } from '../../../gateway/signal/filters.ts';

export type CorruptionKind = 'motion' | 'spikes' | 'noise-0dB' | 'clipping' | 'pulse-removed';
export const CORRUPTIONS: readonly CorruptionKind[] = ['motion', 'spikes', 'noise-0dB', 'clipping', 'pulse-removed'];

export interface Span {
  from: number;
  to: number;
}

import { mulberry32 } from '../../../firmware-bridge/sources/random.ts';

export { mulberry32 };

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

/** Band-passed (0.5–5 Hz) absorbance, the pulse as the pipeline sees it. */
export function pulseOf(raw: Float64Array, fs: number): Float64Array {
  const hp = Biquad.highpass(0.5, fs);
  const lp = Biquad.lowpass(Math.min(5, 0.4 * fs), fs);
  const out = new Float64Array(raw.length);
  const first = -Math.log(Math.max(1, raw[0]!));
  hp.settle(first);
  for (let i = 0; i < raw.length; i++) out[i] = lp.step(hp.step(-Math.log(Math.max(1, raw[i]!))));
  return out;
}

function rmsOf(x: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, to - from));
}

/**
 * Corrupt the spans of one recording's channels (same motion for both LEDs,
 * independent noise). `fullScale` is the ADC's full scale for clipping.
 */
export function corrupt(
  channels: Float64Array[],
  fs: number,
  spans: readonly Span[],
  kind: CorruptionKind,
  fullScale: number,
  seed: number,
): Float64Array[] {
  const rand = mulberry32(seed);
  const out = channels.map((c) => Float64Array.from(c));
  // Pulse amplitude (relative, AC/DC) of the first channel, measured on the clean recording.
  const skip = Math.min(channels[0]!.length - 1, Math.round(3 * fs));
  const pulseRms = rmsOf(pulseOf(channels[0]!, fs), skip, channels[0]!.length);
  for (const span of spans) {
    const i0 = Math.max(0, Math.round(span.from * fs));
    const i1 = Math.min(channels[0]!.length, Math.round(span.to * fs));
    if (i1 <= i0) continue;
    if (kind === 'motion') {
      // Swings of 5–10 × the pulse, 0.2–3 Hz, overlapping the heart-rate band.
      const parts = [0, 1, 2].map(() => ({ f: 0.2 + 2.8 * rand(), ph: 2 * Math.PI * rand(), a: 0.5 + rand() }));
      const amp = (5 + 5 * rand()) * pulseRms * 2.8;
      for (let c = 0; c < out.length; c++) {
        const gain = c === 0 ? 1 : 0.7 + 0.6 * rand();
        for (let i = i0; i < i1; i++) {
          let m = 0;
          for (const p of parts) m += p.a * Math.sin(2 * Math.PI * p.f * (i / fs) + p.ph);
          out[c]![i] = out[c]![i]! * Math.exp(-gain * amp * (m / 2));
        }
      }
    } else if (kind === 'spikes') {
      // About two spikes a second, 5–15 × the pulse, 1–3 samples wide.
      for (let i = i0; i < i1; i++) {
        if (rand() > 2 / fs) continue;
        const size = (5 + 10 * rand()) * pulseRms * 2.8 * (rand() < 0.5 ? -1 : 1);
        const width = 1 + Math.floor(3 * rand());
        for (let c = 0; c < out.length; c++) for (let k = i; k < Math.min(i1, i + width); k++) out[c]![k] = out[c]![k]! * Math.exp(size);
      }
    } else if (kind === 'noise-0dB') {
      // Band-limited noise with the power of the band-passed pulse: 0 dB in the band that matters.
      for (let c = 0; c < out.length; c++) {
        const clean = pulseOf(channels[c]!, fs);
        const target = rmsOf(clean, i0, i1);
        const hp = Biquad.highpass(0.5, fs);
        const lp = Biquad.lowpass(Math.min(5, 0.4 * fs), fs);
        const noise = new Float64Array(i1 - i0);
        for (let k = 0; k < 50; k++) lp.step(hp.step(gaussian(rand)));
        for (let i = 0; i < noise.length; i++) noise[i] = lp.step(hp.step(gaussian(rand)));
        const scale = target / Math.max(1e-12, rmsOf(noise, 0, noise.length));
        for (let i = i0; i < i1; i++) out[c]![i] = out[c]![i]! * Math.exp(-scale * noise[i - i0]!);
      }
    } else if (kind === 'clipping') {
      // Gain up until 70 % of the span sits at the ADC's full scale.
      for (let c = 0; c < out.length; c++) {
        const sorted = Array.from(channels[c]!.subarray(i0, i1)).sort((a, b) => a - b);
        const p30 = sorted[Math.floor(0.3 * sorted.length)]!;
        const g = fullScale / Math.max(1, p30);
        for (let i = i0; i < i1; i++) out[c]![i] = Math.min(fullScale, out[c]![i]! * g);
      }
    } else {
      // Pulse removed: the slow baseline (6 s centred mean, ripple at the heart rate < 5 %) plus sensor noise at 2 % of the pulse.
      const half = Math.round(3 * fs);
      for (let c = 0; c < out.length; c++) {
        const src = channels[c]!;
        const prefix = new Float64Array(src.length + 1);
        for (let i = 0; i < src.length; i++) prefix[i + 1] = prefix[i]! + src[i]!;
        for (let i = i0; i < i1; i++) {
          const a = Math.max(0, i - half);
          const b = Math.min(src.length, i + half);
          out[c]![i] = ((prefix[b]! - prefix[a]!) / (b - a)) * Math.exp(0.02 * pulseRms * gaussian(rand));
        }
      }
    }
  }
  return out;
}
