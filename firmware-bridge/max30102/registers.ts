/**
 * MAX30102 register map and field encodings (Maxim MAX30102 datasheet, 19-7740 Rev 1,
 * "Register Maps and Descriptions", Table 1), shared by the driver and the emulator.
 */

/** 7-bit I2C address (write 0xAE / read 0xAF). */
export const MAX30102_ADDRESS = 0x57;
export const PART_ID_VALUE = 0x15;

export const REG = {
  INT_STATUS_1: 0x00,
  INT_STATUS_2: 0x01,
  INT_ENABLE_1: 0x02,
  INT_ENABLE_2: 0x03,
  FIFO_WR_PTR: 0x04,
  OVF_COUNTER: 0x05,
  FIFO_RD_PTR: 0x06,
  FIFO_DATA: 0x07,
  FIFO_CONFIG: 0x08,
  MODE_CONFIG: 0x09,
  SPO2_CONFIG: 0x0a,
  LED1_PA: 0x0c, // red
  LED2_PA: 0x0d, // IR
  MULTI_LED_1: 0x11,
  MULTI_LED_2: 0x12,
  TEMP_INT: 0x1f,
  TEMP_FRAC: 0x20,
  TEMP_CONFIG: 0x21,
  REV_ID: 0xfe,
  PART_ID: 0xff,
} as const;

/** Interrupt Status 1 / Enable 1 bits. */
export const INT1 = { A_FULL: 0x80, PPG_RDY: 0x40, ALC_OVF: 0x20, PWR_RDY: 0x01 } as const;
/** Interrupt Status 2 / Enable 2 bits. */
export const INT2 = { DIE_TEMP_RDY: 0x02 } as const;

export const MODE = { SHDN: 0x80, RESET: 0x40, HR: 0x02, SPO2: 0x03, MULTI_LED: 0x07 } as const;
export const FIFO_ROLLOVER_EN = 0x10;
export const TEMP_EN = 0x01;

/** The FIFO holds 32 samples; pointers and OVF_COUNTER are 5-bit (OVF_COUNTER saturates at 0x1F). */
export const FIFO_DEPTH = 32;
export const PTR_MASK = 0x1f;
/** FIFO words carry 18 bits in 17:0; lower resolutions are left-justified inside them. */
export const SAMPLE_MASK = 0x3ffff;
export const FULL_SCALE = SAMPLE_MASK;

export const SAMPLE_RATES = [50, 100, 200, 400, 800, 1000, 1600, 3200] as const;
export type SampleRate = (typeof SAMPLE_RATES)[number];
export const PULSE_WIDTHS = [69, 118, 215, 411] as const;
export type PulseWidth = (typeof PULSE_WIDTHS)[number];
/** ADC resolution that goes with each LED pulse width (SpO2 Configuration, LED_PW[1:0]). */
export const ADC_BITS: Record<PulseWidth, number> = { 69: 15, 118: 16, 215: 17, 411: 18 };
export const ADC_RANGES_NA = [2048, 4096, 8192, 16384] as const;
export type AdcRange = (typeof ADC_RANGES_NA)[number];
export const SAMPLE_AVERAGES = [1, 2, 4, 8, 16, 32] as const;
export type SampleAverage = (typeof SAMPLE_AVERAGES)[number];

/** LEDx_PA: 0.2 mA per LSB, 0x00 = 0 mA … 0xFF = 51.0 mA. */
export const LED_MA_PER_LSB = 0.2;
export const LED_MAX_MA = 51;

export function ledCode(ma: number): number {
  return Math.max(0, Math.min(0xff, Math.round(ma / LED_MA_PER_LSB)));
}
export function ledMa(code: number): number {
  return Math.round(code * LED_MA_PER_LSB * 10) / 10;
}

/** Die temperature: TINT is two's complement °C, TFRAC[3:0] adds 0.0625 °C steps. */
export function decodeDieTemp(tint: number, tfrac: number): number {
  const whole = tint & 0x80 ? tint - 0x100 : tint;
  return whole + (tfrac & 0x0f) * 0.0625;
}

export function encodeSpo2Config(adcRangeNa: AdcRange, sampleRate: SampleRate, pulseWidth: PulseWidth): number {
  return (ADC_RANGES_NA.indexOf(adcRangeNa) << 5) | (SAMPLE_RATES.indexOf(sampleRate) << 2) | PULSE_WIDTHS.indexOf(pulseWidth);
}

export function decodeSpo2Config(byte: number): { adcRangeNa: AdcRange; sampleRate: SampleRate; pulseWidth: PulseWidth } {
  return {
    adcRangeNa: ADC_RANGES_NA[(byte >> 5) & 0x03]!,
    sampleRate: SAMPLE_RATES[(byte >> 2) & 0x07]!,
    pulseWidth: PULSE_WIDTHS[byte & 0x03]!,
  };
}

/** FIFO Configuration: SMP_AVE[7:5] (codes 5–7 all mean 32), FIFO_ROLLOVER_EN, FIFO_A_FULL[3:0]. */
export function encodeFifoConfig(average: SampleAverage, rollover: boolean, aFull: number): number {
  return (SAMPLE_AVERAGES.indexOf(average) << 5) | (rollover ? FIFO_ROLLOVER_EN : 0) | (aFull & 0x0f);
}

export function decodeFifoConfig(byte: number): { average: SampleAverage; rollover: boolean; aFull: number } {
  return {
    average: SAMPLE_AVERAGES[Math.min(5, (byte >> 5) & 0x07)]!,
    rollover: (byte & FIFO_ROLLOVER_EN) !== 0,
    aFull: byte & 0x0f,
  };
}

/**
 * Highest sample rate the datasheet allows for each pulse width: Table 11 (SpO2 mode) and
 * Table 12 (heart-rate mode). Each sample needs the LED pulses plus the ambient-cancellation
 * conversions to fit in one sample period; two LEDs in SpO2 mode halve the room.
 */
export const MAX_RATE: Record<'spo2' | 'hr', Record<PulseWidth, SampleRate>> = {
  spo2: { 69: 1600, 118: 1000, 215: 800, 411: 400 },
  hr: { 69: 3200, 118: 1600, 215: 1000, 411: 800 },
};
