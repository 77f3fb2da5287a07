import { RecordingError } from './types.ts';

/**
 * Linear-interpolation resampling of irregularly timed samples onto a uniform grid.
 * `times` are in milliseconds, non-decreasing (repeated times keep the later value);
 * the grid starts at times[0] and steps 1000 / rateHz ms up to the last time.
 */
export function resample(times: ArrayLike<number>, values: ArrayLike<number>, rateHz: number): Float64Array {
  if (times.length !== values.length) {
    throw new RecordingError(`resample: ${times.length} times but ${values.length} values`);
  }
  if (!Number.isFinite(rateHz) || rateHz <= 0) throw new RecordingError(`resample: rate must be a positive number of Hz, got ${rateHz}`);
  const n = times.length;
  if (n === 0) return new Float64Array(0);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(times[i]!)) throw new RecordingError(`resample: time at sample ${i + 1} is not a finite number`);
    if (i > 0 && times[i]! < times[i - 1]!) {
      throw new RecordingError(`resample: time goes backwards at sample ${i + 1} (${times[i - 1]} → ${times[i]} ms)`);
    }
  }
  const t0 = times[0]!;
  const stepMs = 1000 / rateHz;
  // The small epsilon keeps the last sample when the span is an exact multiple of the step.
  const count = Math.floor((times[n - 1]! - t0) / stepMs + 1e-9) + 1;
  const out = new Float64Array(count);
  let j = 0;
  for (let k = 0; k < count; k++) {
    const t = t0 + k * stepMs;
    while (j < n - 2 && times[j + 1]! <= t) j++;
    const ta = times[j]!;
    const tb = times[Math.min(j + 1, n - 1)]!;
    const va = values[j]!;
    const vb = values[Math.min(j + 1, n - 1)]!;
    if (tb <= ta || t <= ta) out[k] = t <= ta ? va : vb;
    else if (t >= tb) out[k] = vb;
    else out[k] = va + ((vb - va) * (t - ta)) / (tb - ta);
  }
  return out;
}

/** Resamples a uniformly sampled series to another rate (same start, linear interpolation). */
export function resampleUniform(values: ArrayLike<number>, fromHz: number, toHz: number): Float64Array {
  if (fromHz === toHz) return Float64Array.from(values);
  const times = new Float64Array(values.length);
  for (let i = 0; i < times.length; i++) times[i] = (i * 1000) / fromHz;
  return resample(times, values, toHz);
}
