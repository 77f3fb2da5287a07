import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../../firmware-bridge/clock.ts';
import type { Max30102Config } from '../../../firmware-bridge/max30102/config.ts';
import { type DriverOptions, Max30102Driver } from '../../../firmware-bridge/max30102/driver.ts';
import { type EmulatorFaults, Max30102Emulator } from '../../../firmware-bridge/max30102/emulator.ts';
import { MODE, REG } from '../../../firmware-bridge/max30102/registers.ts';
import type { SensorSample, SensorState } from '../../../firmware-bridge/sensor.ts';
import type { OpticalSource } from '../../../firmware-bridge/sources/optical.ts';
import { SyntheticSource } from '../../../firmware-bridge/sources/synthetic.ts';
import { A, constantSource } from '../helpers.ts';

function rig(
  opts: {
    source?: OpticalSource;
    config?: Partial<Max30102Config>;
    faults?: EmulatorFaults;
    intLine?: boolean;
    recovery?: DriverOptions['recovery'];
  } = {},
) {
  const clock = new VirtualClock();
  const emu = new Max30102Emulator({ source: opts.source ?? constantSource(), clock, faults: opts.faults });
  const driver = new Max30102Driver({
    bus: emu,
    int: opts.intLine === false ? undefined : emu.int,
    clock,
    config: opts.config,
    recovery: opts.recovery,
    kind: 'emulator',
  });
  const samples: SensorSample[] = [];
  const batches: number[] = [];
  const states: SensorState[] = [];
  driver.onSamples((b) => {
    samples.push(...b);
    batches.push(b.length);
  });
  driver.onState((s) => states.push(s));
  return { clock, emu, driver, samples, batches, states };
}

/** A source whose red channel counts samples: any duplicate or skipped sample shows as a step ≠ 1. */
// (+0.05 keeps sample instants that fall on half counts from rounding both ways.)
const counter = (rate: number): OpticalSource => constantSource(0, 0, (tS) => ({ red: 100000 + Math.round(tS * rate + 0.05), ir: 150000 }));

describe('driver: reading the FIFO', () => {
  test('delivers every sample at the configured rate, masked to 18 bits, through pointer rollover', async () => {
    const r = rig({ source: counter(100) });
    await r.driver.start();
    await r.clock.advance(10_000);
    assert.equal(r.driver.state().state, 'ok');
    assert.equal(r.driver.state().lostSamples, 0);
    assert.ok(r.samples.length >= 990 && r.samples.length <= 1000, `${r.samples.length} samples`);
    for (let i = 1; i < r.samples.length; i++) assert.equal(r.samples[i]!.red - r.samples[i - 1]!.red, 1, `sample ${i}`);
    assert.ok(r.samples.every((s) => s.ir === 150000));
    assert.equal(r.driver.sampleRateHz, 100);
  });

  test('the A_FULL interrupt alone drains the FIFO in almost-full batches', async () => {
    const r = rig({ source: counter(100), config: { pollIntervalMs: 1000, almostFullSamples: 20 } });
    await r.driver.start();
    await r.clock.advance(5000);
    assert.equal(r.driver.state().lostSamples, 0);
    assert.ok(r.samples.length >= 480, `${r.samples.length}`);
    const full = r.batches.filter((n) => n === 20).length;
    assert.ok(full >= r.batches.length - 3, `batches ${r.batches.join(',')}`);
  });

  test('without the INT line it falls back to polling and loses nothing', async () => {
    const r = rig({ source: counter(400), config: { sampleRate: 400 }, intLine: false });
    await r.driver.start();
    await r.clock.advance(5000);
    assert.equal(r.driver.state().lostSamples, 0);
    assert.ok(r.samples.length >= 1980, `${r.samples.length}`);
    for (let i = 1; i < r.samples.length; i++) assert.equal(r.samples[i]!.red - r.samples[i - 1]!.red, 1);
  });

  test('rides out 50 ms event-loop stalls at 400 samples/s without losing a sample', async () => {
    const r = rig({ source: counter(400), config: { sampleRate: 400 } });
    await r.driver.start();
    await r.clock.advance(100);
    for (let i = 0; i < 50; i++) {
      await r.clock.advance(37);
      r.clock.jump(50); // the process is busy elsewhere: no timer, no INT handler runs
    }
    await r.clock.advance(100);
    assert.equal(r.driver.state().lostSamples, 0);
    assert.equal(r.driver.state().overflows, 0);
    for (let i = 1; i < r.samples.length; i++) assert.equal(r.samples[i]!.red - r.samples[i - 1]!.red, 1);
  });

  test('a longer stall overflows the FIFO: lost samples are counted (past OVF_COUNTER saturation) and marked', async () => {
    const r = rig({ source: counter(100) });
    await r.driver.start();
    await r.clock.advance(1000);
    r.clock.jump(1000); // 100 samples due, 32 fit
    await r.clock.advance(1000);
    const st = r.driver.state();
    assert.equal(st.overflows, 1);
    const i = r.samples.findIndex((s) => s.lostBefore !== undefined);
    assert.ok(i > 0);
    const skipped = r.samples[i]!.red - r.samples[i - 1]!.red - 1;
    assert.ok(Math.abs(st.lostSamples - skipped) <= 1, `counted ${st.lostSamples}, really ${skipped}`);
    assert.ok(Math.abs(r.samples[i]!.lostBefore! - skipped) <= 1);
    assert.ok(skipped > 31, 'beyond what OVF_COUNTER can count');
  });

  test('a short overflow is counted exactly from OVF_COUNTER and marked on the sample after the gap', async () => {
    const r = rig({ source: counter(100), config: { pollIntervalMs: 1000 }, intLine: false });
    await r.driver.start();
    await r.clock.advance(2100); // reads at 1 s and 2 s: 100 samples made each time, 32 kept
    const st = r.driver.state();
    assert.equal(st.overflows, 2);
    assert.equal(st.lostSamples, 2 * 68);
    const marked = r.samples.flatMap((s, i) => (s.lostBefore ? [[s.lostBefore, s.red - r.samples[i - 1]!.red - 1]] : []));
    assert.deepEqual(marked, [[68, 68]], 'the second gap is marked on the next batch, still to come');
  });

  test('a part whose oscillator runs 10 % slow or fast is not mistaken for one losing samples', async () => {
    for (const rateError of [-0.1, 0.1]) {
      const clock = new VirtualClock();
      const emu = new Max30102Emulator({ source: counter(100), clock, rateError });
      const driver = new Max30102Driver({ bus: emu, int: emu.int, clock });
      const got: SensorSample[] = [];
      driver.onSamples((b) => got.push(...b));
      await driver.start();
      await clock.advance(10_000);
      assert.equal(driver.state().lostSamples, 0);
      assert.ok(!got.some((s) => s.lostBefore));
      assert.ok(Math.abs(got.length - 1000 * (1 + rateError)) < 15, `${got.length} samples`);
    }
  });

  test('heart-rate mode reads 3-byte samples at 3200 samples/s', async () => {
    const r = rig({ source: counter(3200), config: { mode: 'hr', sampleRate: 3200, pulseWidthUs: 69 } });
    await r.driver.start();
    await r.clock.advance(1000);
    assert.equal(r.driver.state().lostSamples, 0);
    assert.ok(r.samples.length >= 3150, `${r.samples.length}`);
    assert.ok(r.samples.every((s) => Number.isNaN(s.ir)));
    // 15-bit resolution: consecutive counts step by 8 after left-justification, or by 0.
    assert.ok(r.samples.every((s) => s.red % 8 === 0));
  });

  test('on-chip averaging divides the FIFO rate', async () => {
    const r = rig({ source: counter(100), config: { sampleRate: 400, sampleAverage: 4 } });
    assert.equal(r.driver.sampleRateHz, 100);
    await r.driver.start();
    await r.clock.advance(3000);
    assert.ok(r.samples.length >= 290 && r.samples.length <= 300, `${r.samples.length}`);
    assert.equal(r.driver.state().lostSamples, 0);
  });

  test('strong ambient light is reported (ALC_OVF)', async () => {
    const r = rig({ source: new SyntheticSource({ ambient: 200000 }) });
    await r.driver.start();
    await r.clock.advance(1000);
    assert.ok(r.driver.state().ambientOverflows > 0);
    const quiet = rig({ source: new SyntheticSource({}) });
    await quiet.driver.start();
    await quiet.clock.advance(1000);
    assert.equal(quiet.driver.state().ambientOverflows, 0);
  });

  test('a restart after stop is a fresh start, not a gap', async () => {
    const r = rig();
    await r.driver.start();
    await r.clock.advance(1000);
    await r.driver.stop();
    await r.clock.advance(5000);
    await r.driver.start();
    await r.clock.advance(1000);
    assert.equal(r.driver.state().lostSamples, 0);
    assert.equal(r.driver.state().state, 'ok');
  });

  test('reads the die temperature about once a second', async () => {
    const r = rig();
    await r.driver.start();
    await r.clock.advance(1500);
    assert.equal(r.driver.state().dieTempC, 31.25);
    r.emu.dieTempC = 40.5;
    await r.clock.advance(1500);
    assert.equal(r.driver.state().dieTempC, 40.5);
  });

  test('a listener that throws does not stop the sensor', async () => {
    const r = rig();
    r.driver.onSamples(() => {
      throw new Error('consumer bug');
    });
    await r.driver.start();
    await r.clock.advance(2000);
    assert.ok(r.samples.length > 150);
    assert.ok(r.driver.listenerErrors > 0);
  });

  test('stop shuts the chip down and delivers nothing more', async () => {
    const r = rig();
    await r.driver.start();
    await r.clock.advance(500);
    await r.driver.stop();
    const n = r.samples.length;
    await r.clock.advance(2000);
    assert.equal(r.samples.length, n);
    assert.equal(r.emu.peek().mode & MODE.SHDN, MODE.SHDN);
  });
});

describe('driver: LED current control and finger detection', () => {
  test('raises a dim IR channel once, marking the first sample at the new current', async () => {
    const r = rig({ source: constantSource(90000, 20000) });
    await r.driver.start();
    await r.clock.advance(20_000);
    const steps = r.samples.flatMap((s, i) => (s.ledStep ? [i] : []));
    assert.equal(steps.length, 1, 'one change, no hunting');
    const i = steps[0]!;
    assert.ok(Math.abs(r.samples[i - 1]!.ir - 20000) < 50);
    const irMa = r.driver.state().irLedMa;
    assert.ok(irMa > 6.4);
    assert.ok(Math.abs(r.samples[i]!.ir - (20000 * irMa) / 6.4) < 50, `${r.samples[i]!.ir}`);
    assert.equal(r.emu.peek().irMa, irMa);
    const dc = r.samples.at(-1)!.ir / 0x3ffff;
    assert.ok(dc > 0.4 && dc < 0.6, `IR DC ${dc} of full scale`);
    assert.equal(r.driver.state().redLedMa, 6.4, 'red was in range');
  });

  test('lowers a channel that clips at once', async () => {
    const r = rig({ source: constantSource(90000, 300000) });
    await r.driver.start();
    await r.clock.advance(500);
    assert.ok(r.driver.state().irLedMa < 6.4);
    assert.ok(r.samples.some((s) => s.ledStep));
  });

  test('keeps the currents when autoLed is off', async () => {
    const r = rig({ source: constantSource(90000, 20000), config: { autoLed: false } });
    await r.driver.start();
    await r.clock.advance(5000);
    assert.equal(r.driver.state().irLedMa, 6.4);
  });

  test('finger off and back, from the IR DC level; the LED is not driven harder into air', async () => {
    const source = new SyntheticSource({
      name: 'finger',
      events: [
        { atS: 3, set: { fingerOn: false } },
        { atS: 8, set: { fingerOn: true } },
      ],
    });
    const r = rig({ source });
    await r.driver.start();
    await r.clock.advance(2500);
    assert.equal(r.driver.state().state, 'ok');
    await r.clock.advance(3000);
    assert.equal(r.driver.state().state, 'finger-off');
    await r.clock.advance(4000);
    assert.equal(r.driver.state().state, 'ok');
    assert.deepEqual(
      r.states.map((s) => s.state).filter((s, i, a) => s !== a[i - 1]),
      ['starting', 'ok', 'finger-off', 'ok'],
    );
    assert.equal(r.driver.state().irLedMa, 6.4);
  });
});

describe('driver: faults never crash it', () => {
  test('a transient EIO is retried: the sensor is re-initialised, the gap counted, no fault raised', async () => {
    const r = rig({ source: counter(100) });
    await r.driver.start();
    await r.clock.advance(1000);
    r.emu.inject({ failNext: 1 });
    await r.clock.advance(2000);
    assert.ok(!r.states.some((s) => s.state === 'fault'));
    assert.equal(r.driver.state().state, 'ok');
    const lost = r.driver.state().lostSamples;
    assert.ok(lost > 0 && lost < 20, `lost ${lost}`);
    const i = r.samples.findIndex((s) => s.lostBefore);
    assert.ok(i > 0);
    const skipped = r.samples[i]!.red - r.samples[i - 1]!.red - 1;
    assert.ok(Math.abs(skipped - lost) <= 1, `skipped ${skipped}, counted ${lost}`);
  });

  test('persistent EIO on FIFO_DATA becomes a fault with its cause, and clears when the bus recovers', async () => {
    const r = rig({ recovery: { faultRetryMs: 2000 } });
    await r.driver.start();
    await r.clock.advance(500);
    r.emu.inject({ eioRegisters: [REG.FIFO_DATA] });
    await r.clock.advance(3000);
    const st = r.driver.state();
    assert.equal(st.state, 'fault');
    assert.match(st.cause!, /EIO at register 0x07/);
    assert.match(st.cause!, /5 attempts/);
    r.emu.inject({});
    await r.clock.advance(3000);
    assert.equal(r.driver.state().state, 'ok');
    assert.ok(r.states.some((s) => s.state === 'starting' && /recovered from/.test(s.cause ?? '')));
    const n = r.samples.length;
    await r.clock.advance(1000);
    assert.ok(r.samples.length - n > 90);
  });

  for (const [kind, faults, pattern] of [
    ['NACK on FIFO_DATA', { nackRegisters: [REG.FIFO_DATA] }, /NACK at register 0x07/],
    ['EIO on the pointer registers', { eioRegisters: [REG.INT_STATUS_1] }, /EIO at register 0x00/],
    ['NACK on every register (sensor unplugged)', { absent: true }, /wrong or missing sensor: nothing answers at address 0x57/],
  ] as const) {
    test(`persistent ${kind} mid-run becomes a fault naming it`, async () => {
      const r = rig();
      await r.driver.start();
      await r.clock.advance(500);
      r.emu.inject(faults);
      await r.clock.advance(3000);
      assert.equal(r.driver.state().state, 'fault');
      assert.match(r.driver.state().cause!, pattern);
    });
  }

  test('no device at the address: "wrong or missing sensor"', async () => {
    const r = rig({ faults: { absent: true } });
    await r.driver.start();
    await r.clock.advance(10);
    assert.equal(r.driver.state().state, 'fault');
    assert.match(r.driver.state().cause!, /wrong or missing sensor: nothing answers at address 0x57 \(NACK\)/);
  });

  test('a wrong PART_ID is a fault at once, naming what was read', async () => {
    const r = rig({ faults: { partId: 0x11 }, recovery: { faultRetryMs: 1000 } });
    await r.driver.start();
    await r.clock.advance(10);
    assert.equal(r.driver.state().state, 'fault');
    assert.match(r.driver.state().cause!, /wrong or missing sensor: PART_ID 0x11 .*0x15/);
    r.emu.inject({});
    await r.clock.advance(1500);
    assert.equal(r.driver.state().state, 'ok', 'a swapped sensor is picked up by the slow retry');
  });

  test('stuck FIFO pointers are detected and end in a fault', async () => {
    const r = rig();
    await r.driver.start();
    await r.clock.advance(500);
    r.emu.inject({ stuckFifo: true });
    await r.clock.advance(8000);
    assert.equal(r.driver.state().state, 'fault');
    assert.match(r.driver.state().cause!, /FIFO pointers stuck/);
  });

  test('a hung bus times out, becomes a fault, and recovers when released', async () => {
    const r = rig({ recovery: { faultRetryMs: 1000 } });
    await r.driver.start();
    await r.clock.advance(500);
    r.emu.inject({ hungBus: true });
    await r.clock.advance(5000);
    assert.equal(r.driver.state().state, 'fault');
    assert.match(r.driver.state().cause!, /TIMEOUT/);
    r.emu.inject({});
    await r.clock.advance(2000);
    assert.equal(r.driver.state().state, 'ok');
  });

  test('a chip that reset behind the driver’s back (power glitch) is re-initialised', async () => {
    const r = rig({ source: counter(100) });
    await r.driver.start();
    await r.clock.advance(1000);
    await r.emu.writeByte(A, REG.MODE_CONFIG, MODE.RESET);
    await r.clock.advance(2000);
    assert.equal(r.driver.state().state, 'ok');
    const n = r.samples.length;
    await r.clock.advance(1000);
    assert.ok(r.samples.length - n >= 95);
  });
});

describe('driver: soak under random faults', () => {
  for (const start of [99, 6, 16])
    test(`two emulated minutes of random faults and stalls (seed ${start}): no exception, no duplicate, every gap accounted, recovery at the end`, async () => {
      const r = rig({ source: counter(100), recovery: { faultRetryMs: 1000 } });
      let seed = start;
      const rand = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
      const faults = [
        { failNext: 1 },
        { failNext: 3 },
        { eioRegisters: [REG.FIFO_DATA] },
        { nackRegisters: [REG.INT_STATUS_1] },
        { hungBus: true },
        { stuckFifo: true },
        { absent: true },
        { partId: 0x11 },
        {},
        {},
        {},
      ];
      await r.driver.start();
      for (let i = 0; i < 60; i++) {
        r.emu.inject(faults[Math.floor(rand() * faults.length)]!);
        if (rand() < 0.2) r.clock.jump(Math.floor(rand() * 600));
        await r.clock.advance(Math.floor(rand() * 2000));
      }
      r.emu.inject({});
      await r.clock.advance(8000);
      assert.equal(r.driver.state().state, 'ok');
      let unaccounted = 0;
      for (let i = 1; i < r.samples.length; i++) {
        const step = r.samples[i]!.red - r.samples[i - 1]!.red;
        assert.ok(step >= 1, `sample ${i} repeats or goes back (${step})`);
        if (step > 1 && !r.samples[i]!.lostBefore) unaccounted += step - 1;
        const marked = r.samples[i]!.lostBefore;
        if (marked) assert.ok(Math.abs(marked - (step - 1)) <= 2, `sample ${i}: ${marked} marked lost, ${step - 1} really`);
      }
      assert.equal(unaccounted, 0, 'every gap in the stream is marked with lostBefore');
      assert.ok(
        r.states.some((st) => st.state === 'fault'),
        'the soak did reach a fault',
      );
      assert.ok(r.samples.filter((x) => x.lostBefore).length >= 5, 'and did lose samples several times');
      const n = r.samples.length;
      await r.clock.advance(1000);
      assert.ok(r.samples.length - n >= 95);
    });
});
