/** What every recording parser returns, whatever the file looked like. */
export interface Recording {
  /** Uniform sample rate of every array below, in samples per second. */
  rateHz: number;
  /** Red LED channel; 18-bit masked where the source is a raw MAX30102 FIFO. */
  red?: Float64Array;
  /** Infrared LED channel (or, for BIDMC, the monitor's PLETH). */
  ir?: Float64Array;
  /** Other channels at the same rate: ambient, accelerometer, ECG lead II, the device's own SpO2 (NaN = invalid). */
  extra?: Record<string, Float64Array>;
  meta: RecordingMeta;
}

export interface RecordingMeta {
  /** Parser that read the file, e.g. `csv`, `oxiwear-proto1`, `jdesbonnet-dat`. */
  format: string;
  /** File path (or a caller-given name) the samples came from. */
  source?: string;
  /** Which channel carries the pulse best: `ir` for oximeters, `red` for camera PPG. */
  pulseChannel?: 'red' | 'ir';
  /** Reference values stated by the dataset (file name, RR.txt, ...), when there are any. */
  reference?: RecordingReference;
  /** Leading start-up samples dropped before resampling (sensor settling). */
  trimmedStartupSamples?: number;
  [k: string]: unknown;
}

export interface RecordingReference {
  /** Reference SpO2 in %; a [low, high] range when the dataset gives one. */
  spo2?: number | [number, number];
  /** Reference heart rate in beats per minute; a [low, high] range when the dataset gives one. */
  hrBpm?: number | [number, number];
  /** Beat-to-beat RR intervals in ms from a chest strap (Welltory RR.txt). */
  rrMs?: number[];
  /** Name of an `extra` channel that carries an ECG usable as heart-rate reference. */
  ecgChannel?: string;
  /** Free-text label from the dataset (e.g. `good`, `dead`, `shortmove`). */
  label?: string;
}

export interface LoadOptions {
  /** Output rate; the native rate is kept when absent (and required for files that do not state one). */
  rateHz?: number;
  /** For files holding several sensors (jdesbonnet .dat): which one to read. Default 0. */
  sensorId?: number;
  /** Keep leading start-up samples instead of trimming them. */
  keepStartup?: boolean;
}

/** A recording that cannot be read; `message` is one human-readable line naming the file and the reason. */
export class RecordingError extends Error {
  override name = 'RecordingError';
}
