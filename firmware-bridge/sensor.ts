/** What the gateway sees of the pulse-oximetry sensor, whichever bus is underneath. */

export interface SensorSample {
  /** Red and IR photodiode counts, 18-bit (NaN for IR in heart-rate mode, which drives the red LED only). */
  red: number;
  ir: number;
  /** First sample measured after an LED current change: the DC steps here, the signal layer should not read it as a pulse. */
  ledStep?: true;
  /** Samples known to be missing just before this one (FIFO overflow, bus recovery). */
  lostBefore?: number;
}

export type SensorStateName = 'starting' | 'ok' | 'finger-off' | 'fault';

export interface SensorState {
  state: SensorStateName;
  /** Why, for 'fault' (and 'starting' after a recovery): e.g. "I2C EIO at register 0x07 (5 attempts)". */
  cause?: string;
  /** Samples lost since start: FIFO overflows plus gaps while the bus was recovering. */
  lostSamples: number;
  /** FIFO overflow bursts since start (each read that found OVF_COUNTER > 0). */
  overflows: number;
  /** Ambient-light cancellation overflows seen (ALC_OVF): strong light is reaching the photodiode. */
  ambientOverflows: number;
  dieTempC?: number;
  redLedMa: number;
  irLedMa: number;
}

export interface Sensor {
  /** Samples per second delivered to `onSamples` (the FIFO rate: SPO2_SR / SMP_AVE). */
  readonly sampleRateHz: number;
  /** 'hardware' or 'emulator', for logs; nothing should branch on it. */
  readonly kind: 'hardware' | 'emulator';
  start(): Promise<void>;
  stop(): Promise<void>;
  onSamples(cb: (batch: SensorSample[]) => void): void;
  onState(cb: (s: SensorState) => void): void;
  state(): SensorState;
}
