import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HardwareUnavailableError, i2cPresent } from '../../firmware-bridge/i2c-hardware.ts';
import { openAlarmOutputs, openSensor, type SensorSample, VirtualClock } from '../../firmware-bridge/index.ts';
import { VitalsPipeline } from '../../gateway/signal/index.ts';

const scenarios = fileURLToPath(new URL('../../firmware-bridge/scenarios/', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/recordings/welltory_subject_01/PPG.csv', import.meta.url));

describe('openSensor', () => {
  test('emulator with a scenario: the signal layer reads the scenario’s HR and SpO2 back', async () => {
    const clock = new VirtualClock();
    const s = await openSensor({ mode: 'emulator', clock, emulate: { scenarioFile: `${scenarios}desaturation.json` } });
    assert.equal(s.kind, 'emulator');
    assert.equal(s.sampleRateHz, 100);
    const pipeline = new VitalsPipeline({ rateHz: s.sampleRateHz });
    const est: { t: number; hr: number | null; spo2: number | null }[] = [];
    s.onSamples((b) => {
      for (const x of b) {
        const e = pipeline.push(x.red, x.ir);
        if (e) est.push(e);
      }
    });
    await s.start();
    await clock.advance(130_000);
    await s.stop();
    const at = (t: number) => est.find((e) => Math.abs(e.t - t) < 0.6)!;
    assert.ok(Math.abs(at(40).hr! - 78) <= 2, `HR ${at(40).hr}`);
    assert.ok(Math.abs(at(40).spo2! - 97) <= 2, `SpO2 ${at(40).spo2}`);
    assert.ok(Math.abs(at(125).spo2! - 85) <= 2, `SpO2 at the nadir ${at(125).spo2}`);
    assert.equal(s.source?.truthAt?.(125).spo2, 85);
  });

  test('emulator playing a recording, and the polling fallback without INT', async () => {
    const clock = new VirtualClock();
    const s = await openSensor({ mode: 'emulator', clock, emulate: { recordingFile: fixture, intLine: false } });
    const got: SensorSample[] = [];
    s.onSamples((b) => got.push(...b));
    await s.start();
    await clock.advance(3000);
    await s.stop();
    assert.ok(got.length >= 290, `${got.length}`);
    assert.equal(s.state().lostSamples, 0);
  });

  test('fault injection reaches the state callback', async () => {
    const clock = new VirtualClock();
    const s = await openSensor({ mode: 'emulator', clock, emulate: { faults: { partId: 0x00 } } });
    const states: string[] = [];
    s.onState((st) => states.push(st.state));
    await s.start();
    await clock.advance(100);
    assert.deepEqual(states, ['starting', 'fault']);
    assert.match(s.state().cause!, /wrong or missing sensor/);
    await s.stop();
  });

  test('bad configuration is refused with the datasheet rule', async () => {
    await assert.rejects(openSensor({ mode: 'emulator', config: { sampleRate: 800, pulseWidthUs: 411 } }), /Table 11/);
  });

  test('hardware mode without /dev/i2c-N says how to enable I2C', {
    skip: i2cPresent(7) ? 'this machine has /dev/i2c-7' : false,
  }, async () => {
    await assert.rejects(openSensor({ mode: 'hardware', hardware: { i2cBus: 7 } }), (e: unknown) => {
      assert.ok(e instanceof HardwareUnavailableError);
      assert.match(e.message, /\/dev\/i2c-7 does not exist: enable I2C/);
      return true;
    });
  });

  test('auto mode falls back to the emulator where there is no I2C bus', {
    skip: i2cPresent(1) ? 'this machine has /dev/i2c-1' : false,
  }, async () => {
    const s = await openSensor({ clock: new VirtualClock() });
    assert.equal(s.kind, 'emulator');
    await s.stop();
  });
});

describe('openAlarmOutputs', () => {
  test('in-memory outputs for the alarm LED and buzzer off the Pi', async () => {
    const o = await openAlarmOutputs({ mode: 'memory' });
    assert.equal(o.kind, 'memory');
    await o.led.write(1);
    await o.buzzer.write(1);
    await o.led.close();
  });
});
