/**
 * What the emulated photodiode sees. A source gives, for a moment in time, the light in each
 * channel expressed as ADC counts at the reference settings (LED current REFERENCE_LED_MA,
 * ADC range REFERENCE_ADC_RANGE_NA, ambient already cancelled); the emulator scales it by
 * the LED currents and ADC range the driver actually programmed.
 */
export interface OpticalSample {
  red: number;
  ir: number;
  /** Ambient light left after the chip's ambient cancellation, in counts; not scaled by LED current. */
  ambient?: number;
}

export interface OpticalSource {
  /** The light at `tS` seconds since the source started; called with non-decreasing times. */
  at(tS: number): OpticalSample;
  /** What a source knows to be true at `tS` (synthetic and scenario sources), for tests and benchmarks. */
  truthAt?(tS: number): SignalTruth;
  readonly description: string;
}

export interface SignalTruth {
  hrBpm: number;
  spo2: number;
  perfusionIndex: number;
  fingerOn: boolean;
  motion: boolean;
}

/** LED current and ADC range at which source counts are expressed (the driver's defaults). */
export const REFERENCE_LED_MA = 6.4;
export const REFERENCE_ADC_RANGE_NA = 4096;
