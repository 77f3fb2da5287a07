/**
 * Plays a recording as the emulator's light source, resampled (linear interpolation) to whatever
 * instants the emulated chip samples at, looping at the end. Counts from a raw sensor are used as
 * recorded; signals in other units (the BIDMC monitor's PLETH, camera frame means) are mapped to a
 * finger-like DC of 100 000 counts with a 2 % pulse so the driver sees a plausible level.
 */
import type { OpticalSample, OpticalSource } from './optical.ts';
import { loadRecording, type Recording, RecordingError } from './recordings.ts';

function median(a: Float64Array): number {
  const s = Float64Array.from(a).sort();
  return s[s.length >> 1] ?? 0;
}

function toCounts(ch: Float64Array, rec: Recording): Float64Array {
  // BIDMC PLETH rises with blood volume; photodiode counts fall with it.
  if (rec.meta.format === 'bidmc-signals') {
    const s = Float64Array.from(ch).sort();
    const lo = s[Math.floor(s.length * 0.05)] ?? 0;
    const hi = s[Math.floor(s.length * 0.95)] ?? 1;
    const mid = median(ch);
    const span = hi - lo || 1;
    return ch.map((v) => 100000 * (1 - 0.02 * ((v - mid) / span)));
  }
  const m = median(ch);
  if (m > 0 && m < 1000) return ch.map((v) => (v * 100000) / m);
  return ch;
}

export class RecordingSource implements OpticalSource {
  readonly description: string;
  private readonly red: Float64Array;
  private readonly ir: Float64Array;
  private readonly rateHz: number;

  constructor(rec: Recording, opts: { loop?: boolean } = {}) {
    const ir = rec.ir ?? rec.red;
    const red = rec.red ?? rec.ir;
    if (!ir || !red || ir.length < 2) throw new RecordingError(`${rec.meta.source ?? rec.meta.format}: too short to play back`);
    // A camera or monitor recording has one channel: both LEDs see it (SpO2 from it is meaningless).
    this.ir = toCounts(ir, rec);
    this.red = toCounts(red, rec);
    this.rateHz = rec.rateHz;
    this.loop = opts.loop ?? true;
    this.description = `recording:${rec.meta.source ?? rec.meta.format}`;
  }
  private readonly loop: boolean;

  static fromFile(path: string, opts: { sensorId?: number; loop?: boolean } = {}): RecordingSource {
    return new RecordingSource(loadRecording(path, { sensorId: opts.sensorId }), opts);
  }

  /** Length of one pass through the recording, seconds. */
  get durationS(): number {
    return (this.ir.length - 1) / this.rateHz;
  }

  at(tS: number): OpticalSample {
    const n = this.ir.length;
    let x = tS * this.rateHz;
    if (this.loop) x %= n - 1;
    else x = Math.min(x, n - 1);
    const i = Math.floor(x);
    const f = x - i;
    const j = Math.min(i + 1, n - 1);
    return { red: this.red[i]! + (this.red[j]! - this.red[i]!) * f, ir: this.ir[i]! + (this.ir[j]! - this.ir[i]!) * f };
  }
}
