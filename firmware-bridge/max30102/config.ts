import {
  ADC_RANGES_NA,
  type AdcRange,
  FIFO_DEPTH,
  LED_MAX_MA,
  MAX_RATE,
  PULSE_WIDTHS,
  type PulseWidth,
  SAMPLE_AVERAGES,
  SAMPLE_RATES,
  type SampleAverage,
  type SampleRate,
} from './registers.ts';

/** Typed MAX30102 configuration; `validateConfig` refuses what the datasheet forbids. */
export interface Max30102Config {
  /** `spo2`: red + IR, 6 bytes per FIFO sample (the normal mode). `hr`: red only, 3 bytes (Mode Configuration 010). */
  mode: 'spo2' | 'hr';
  /** ADC sample rate (SPO2_SR); the FIFO rate is this divided by `sampleAverage`. */
  sampleRate: SampleRate;
  /** LED pulse width in µs (LED_PW); sets the ADC resolution, 69 µs = 15 bits … 411 µs = 18 bits. */
  pulseWidthUs: PulseWidth;
  /** ADC full scale in nA (SPO2_ADC_RGE). */
  adcRangeNa: AdcRange;
  /** On-chip averaging of consecutive samples (SMP_AVE). */
  sampleAverage: SampleAverage;
  /** Unread samples in the FIFO when A_FULL fires, 17–32 (FIFO_A_FULL = 32 − this). */
  almostFullSamples: number;
  /** Starting LED currents in mA, 0–51 in 0.2 mA steps. */
  redLedMa: number;
  irLedMa: number;
  /** Adjust LED currents to keep the DC level inside the ADC's good range. */
  autoLed: boolean;
  /** Poll the FIFO at least this often even with INT wired (ms); also the fallback without INT. */
  pollIntervalMs?: number;
}

export const DEFAULT_CONFIG: Readonly<Max30102Config> = Object.freeze({
  mode: 'spo2',
  sampleRate: 100,
  pulseWidthUs: 411,
  adcRangeNa: 4096,
  sampleAverage: 1,
  almostFullSamples: 17,
  redLedMa: 6.4,
  irLedMa: 6.4,
  autoLed: true,
});

export class ConfigError extends Error {
  override name = 'Max30102ConfigError';
}

function oneOf<T extends number>(key: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new ConfigError(`sensor config ${key}: ${String(value)} is not one of ${allowed.join(', ')}`);
  return value as T;
}

/** Fills defaults and checks every field; throws ConfigError naming the field and the datasheet rule. */
export function validateConfig(partial: Partial<Max30102Config> = {}): Max30102Config {
  const c: Max30102Config = { ...DEFAULT_CONFIG, ...partial };
  if (c.mode !== 'spo2' && c.mode !== 'hr') throw new ConfigError(`sensor config mode: "${String(c.mode)}" is not spo2 or hr`);
  oneOf('sampleRate', c.sampleRate, SAMPLE_RATES);
  oneOf('pulseWidthUs', c.pulseWidthUs, PULSE_WIDTHS);
  oneOf('adcRangeNa', c.adcRangeNa, ADC_RANGES_NA);
  oneOf('sampleAverage', c.sampleAverage, SAMPLE_AVERAGES);
  const max = MAX_RATE[c.mode][c.pulseWidthUs];
  if (c.sampleRate > max) {
    const table = c.mode === 'spo2' ? 'Table 11, SpO2 mode' : 'Table 12, heart-rate mode';
    throw new ConfigError(
      `sensor config: ${c.pulseWidthUs} µs pulses allow at most ${max} samples/s in ${c.mode} mode (datasheet ${table}), got ${c.sampleRate}`,
    );
  }
  if (!Number.isInteger(c.almostFullSamples) || c.almostFullSamples < FIFO_DEPTH - 15 || c.almostFullSamples > FIFO_DEPTH) {
    throw new ConfigError(`sensor config almostFullSamples: ${c.almostFullSamples} must be an integer 17–32 (FIFO_A_FULL is 4 bits)`);
  }
  for (const key of ['redLedMa', 'irLedMa'] as const) {
    const v = c[key];
    if (typeof v !== 'number' || !(v >= 0 && v <= LED_MAX_MA))
      throw new ConfigError(`sensor config ${key}: ${v} must be 0–${LED_MAX_MA} mA`);
  }
  if (typeof c.autoLed !== 'boolean') throw new ConfigError('sensor config autoLed: must be true or false');
  if (c.pollIntervalMs !== undefined && !(c.pollIntervalMs >= 1 && c.pollIntervalMs <= 1000)) {
    throw new ConfigError(`sensor config pollIntervalMs: ${c.pollIntervalMs} must be 1–1000 ms`);
  }
  return c;
}

/** Samples per second leaving the FIFO. */
export function fifoRateHz(c: Pick<Max30102Config, 'sampleRate' | 'sampleAverage'>): number {
  return c.sampleRate / c.sampleAverage;
}
