import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, fifoRateHz, validateConfig } from '../../../firmware-bridge/max30102/config.ts';
import {
  decodeDieTemp,
  decodeFifoConfig,
  decodeSpo2Config,
  encodeFifoConfig,
  encodeSpo2Config,
  ledCode,
  ledMa,
} from '../../../firmware-bridge/max30102/registers.ts';

describe('MAX30102 configuration', () => {
  test('defaults are valid and run at 100 samples/s', () => {
    const c = validateConfig();
    assert.deepEqual(c, { ...DEFAULT_CONFIG });
    assert.equal(fifoRateHz(c), 100);
    assert.equal(fifoRateHz(validateConfig({ sampleRate: 400, sampleAverage: 4 })), 100);
  });

  test('refuses the pulse-width / sample-rate combinations the datasheet forbids', () => {
    assert.throws(
      () => validateConfig({ sampleRate: 800, pulseWidthUs: 411 }),
      /411 µs pulses allow at most 400 samples\/s in spo2 mode \(datasheet Table 11/,
    );
    assert.throws(() => validateConfig({ sampleRate: 1000, pulseWidthUs: 215 }), ConfigError);
    assert.throws(() => validateConfig({ sampleRate: 3200, pulseWidthUs: 69 }), /at most 1600/);
    assert.equal(validateConfig({ sampleRate: 1600, pulseWidthUs: 69 }).sampleRate, 1600);
    assert.equal(validateConfig({ mode: 'hr', sampleRate: 3200, pulseWidthUs: 69 }).sampleRate, 3200);
    assert.throws(() => validateConfig({ mode: 'hr', sampleRate: 3200, pulseWidthUs: 118 }), /Table 12/);
  });

  test('names the bad field for values outside their sets', () => {
    assert.throws(() => validateConfig({ sampleRate: 250 as never }), /sampleRate: 250 is not one of 50, 100/);
    assert.throws(() => validateConfig({ adcRangeNa: 1000 as never }), /adcRangeNa/);
    assert.throws(() => validateConfig({ sampleAverage: 3 as never }), /sampleAverage/);
    assert.throws(() => validateConfig({ almostFullSamples: 16 }), /almostFullSamples: 16 must be an integer 17–32/);
    assert.throws(() => validateConfig({ irLedMa: 60 }), /irLedMa: 60 must be 0–51 mA/);
    assert.throws(() => validateConfig({ mode: 'multi' as never }), /mode/);
    assert.throws(() => validateConfig({ pollIntervalMs: 0 }), /pollIntervalMs/);
  });
});

describe('register encodings', () => {
  test('SPO2_CONFIG and FIFO_CONFIG round-trip', () => {
    const b = encodeSpo2Config(4096, 100, 411);
    assert.equal(b, 0x27); // ADC 4096 nA, 100 sps, 411 µs: the value most MAX30102 examples write
    assert.deepEqual(decodeSpo2Config(b), { adcRangeNa: 4096, sampleRate: 100, pulseWidth: 411 });
    const f = encodeFifoConfig(4, true, 15);
    assert.equal(f, 0x5f);
    assert.deepEqual(decodeFifoConfig(f), { average: 4, rollover: true, aFull: 15 });
    assert.equal(decodeFifoConfig(0xe0).average, 32, 'SMP_AVE codes 5–7 all mean 32');
  });

  test('LED current in 0.2 mA steps and the die temperature in two’s complement', () => {
    assert.equal(ledCode(6.4), 0x20);
    assert.equal(ledCode(99), 0xff);
    assert.equal(ledMa(0xff), 51);
    assert.equal(decodeDieTemp(0x19, 4), 25.25);
    assert.equal(decodeDieTemp(0xff, 0), -1);
  });
});
