import { resample, resampleUniform } from './resample.ts';
import { checkRate, medianStepMs, roundRate, startupSamples, toFloat64 } from './text.ts';
import { type LoadOptions, type Recording, RecordingError, type RecordingMeta } from './types.ts';

/** Columns as read from a file, before trimming, masking and resampling. */
export interface Columns {
  red?: number[];
  ir?: number[];
  extra?: Record<string, number[]>;
  /** Sample times in ms when the file has them; the samples are then resampled onto a uniform grid. */
  timesMs?: number[];
  /** The rate the dataset states, for files without a time column. */
  nativeRateHz?: number;
  /** Raw MAX30102 FIFO words: keep bits 17:0 only (MAX30102 datasheet, FIFO Data Register: 18-bit samples sit in bits 17:0 of each 3-byte word). */
  mask18?: boolean;
  /** Drop leading start-up samples (sensor settling) unless the caller asks to keep them. */
  trimStartup?: boolean;
}

const MASK_18 = 0x3ffff;

/** Turns parsed columns into a uniform-rate Recording: masking, start-up trimming, resampling. */
export function buildRecording(cols: Columns, opts: LoadOptions, meta: RecordingMeta): Recording {
  const where = meta.source ?? meta.format;
  if (!cols.red && !cols.ir) throw new RecordingError(`${where}: no red or ir channel`);
  const n = (cols.ir ?? cols.red)!.length;
  const all: [string, number[]][] = [];
  if (cols.red) all.push(['red', cols.red]);
  if (cols.ir) all.push(['ir', cols.ir]);
  for (const [k, v] of Object.entries(cols.extra ?? {})) all.push([k, v]);
  if (cols.timesMs) all.push(['time', cols.timesMs]);
  for (const [k, v] of all) {
    if (v.length !== n) throw new RecordingError(`${where}: column ${k} has ${v.length} samples, expected ${n}`);
  }
  if (n === 0) throw new RecordingError(`${where}: no samples`);
  if (opts.rateHz !== undefined) checkRate(opts.rateHz, where);

  if (cols.mask18) {
    let unmasked = 0;
    for (const ch of [cols.red, cols.ir]) {
      if (!ch) continue;
      for (let i = 0; i < ch.length; i++) {
        const v = ch[i]!;
        if (v > MASK_18 || v < 0) {
          unmasked++;
          ch[i] = v & MASK_18;
        }
      }
    }
    if (unmasked > 0) meta.unmaskedValues = unmasked;
  }

  let from = 0;
  if (cols.trimStartup && !opts.keepStartup) {
    const channels = [cols.red, cols.ir].filter((c): c is number[] => c !== undefined);
    from = Math.min(startupSamples(channels), n - 1);
    if (from > 0) meta.trimmedStartupSamples = from;
  }

  const out: Recording = { rateHz: 0, meta };
  const extra: Record<string, Float64Array> = {};
  if (cols.timesMs) {
    const times = toFloat64(cols.timesMs, from);
    for (let i = 1; i < times.length; i++) {
      if (!(times[i]! >= times[i - 1]!)) {
        throw new RecordingError(`${where}: time goes backwards at sample ${i + from + 1} (${times[i - 1]} → ${times[i]} ms)`);
      }
    }
    const step = medianStepMs(times);
    if (!Number.isFinite(step)) throw new RecordingError(`${where}: need at least two distinct sample times to find the sample rate`);
    meta.measuredRateHz = Math.round((1000 / step) * 1000) / 1000;
    const rate = opts.rateHz ?? roundRate(1000 / step);
    out.rateHz = rate;
    if (cols.red) out.red = resample(times, toFloat64(cols.red, from), rate);
    if (cols.ir) out.ir = resample(times, toFloat64(cols.ir, from), rate);
    for (const [k, v] of Object.entries(cols.extra ?? {})) extra[k] = resample(times, toFloat64(v, from), rate);
  } else {
    const native = cols.nativeRateHz ?? opts.rateHz;
    if (native === undefined) {
      throw new RecordingError(`${where}: the file has no time column and states no sample rate; give it (--rate HZ on the command line)`);
    }
    const rate = opts.rateHz ?? native;
    out.rateHz = rate;
    if (native !== rate) meta.nativeRateHz = native;
    const conv = (v: number[]) => resampleUniform(toFloat64(v, from), native, rate);
    if (cols.red) out.red = conv(cols.red);
    if (cols.ir) out.ir = conv(cols.ir);
    for (const [k, v] of Object.entries(cols.extra ?? {})) extra[k] = conv(v);
  }
  if (Object.keys(extra).length > 0) out.extra = extra;
  return out;
}
