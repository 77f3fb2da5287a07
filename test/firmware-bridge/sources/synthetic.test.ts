import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecordingSource } from '../../../firmware-bridge/sources/recording-source.ts';
import { renderSynthetic, SyntheticSource } from '../../../firmware-bridge/sources/synthetic.ts';
import { getCalibration, ratioFromSpo2 } from '../../../gateway/signal/calibrations.ts';

/** Dominant period by autocorrelation over lags for 30–240 bpm. */
function bpm(x: Float64Array, rateHz: number): number {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  let best = 0;
  let bestLag = 0;
  for (let lag = Math.floor((rateHz * 60) / 240); lag <= Math.ceil((rateHz * 60) / 30); lag++) {
    let s = 0;
    for (let i = 0; i + lag < x.length; i++) s += (x[i]! - mean) * (x[i + lag]! - mean);
    if (s > best) {
      best = s;
      bestLag = lag;
    }
  }
  return (60 * rateHz) / bestLag;
}

function acDc(x: Float64Array): number {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    sum += v;
  }
  return (hi - lo) / (sum / x.length);
}

describe('synthetic source', () => {
  test('the heart rate it is asked for is the one in the signal', () => {
    for (const hr of [38, 72, 150]) {
      const r = renderSynthetic({ hrBpm: hr, noise: 0 }, { rateHz: 100, durationS: 20 });
      assert.ok(Math.abs(bpm(r.ir!, 100) - hr) < hr * 0.03, `${hr} bpm read as ${bpm(r.ir!, 100)}`);
    }
  });

  test('the ratio of ratios is the calibration curve inverted at the wanted SpO2', () => {
    for (const spo2 of [97, 85, 70]) {
      const r = renderSynthetic({ spo2, noise: 0, respRateBpm: 0 }, { rateHz: 100, durationS: 5 });
      const ratio = acDc(r.red!) / acDc(r.ir!);
      const want = ratioFromSpo2(getCalibration('max30102'), spo2);
      assert.ok(Math.abs(ratio - want) < 0.02 * want, `SpO2 ${spo2}: R ${ratio} vs ${want}`);
    }
  });

  test('perfusion index sets the IR pulse depth; finger off leaves only a little leaked light', () => {
    const r = renderSynthetic({ perfusionIndex: 2, noise: 0, respRateBpm: 0 }, { rateHz: 100, durationS: 5 });
    assert.ok(Math.abs(acDc(r.ir!) - 0.02) < 0.002);
    const off = renderSynthetic({ fingerOn: false }, { rateHz: 100, durationS: 1 });
    assert.ok(off.ir!.every((v) => v < 2000));
  });

  test('a scenario renders with its truth once per second, and is repeatable', () => {
    const sc = { name: 'd', seed: 9, events: [{ atS: 5, overS: 5, set: { spo2: 85, hrBpm: 100 } }] };
    const a = renderSynthetic(sc, { rateHz: 50, durationS: 12 });
    const b = renderSynthetic(sc, { rateHz: 50, durationS: 12 });
    assert.deepEqual(a.ir, b.ir);
    assert.equal(a.ir!.length, 600);
    assert.equal(a.truth.spo2[0], 97);
    assert.equal(a.truth.spo2[11], 85);
    assert.equal(a.truth.hrBpm[11], 100);
    assert.equal(a.rateHz, 50);
  });

  test('motion bursts corrupt the signal only while they last', () => {
    const src = new SyntheticSource({ name: 'm', initial: { noise: 0 }, events: [{ atS: 2, motion: { durationS: 1, amplitude: 8 } }] });
    assert.equal(src.truthAt(2.5).motion, true);
    assert.equal(src.truthAt(3.5).motion, false);
    const r = renderSynthetic(
      { name: 'm', initial: { noise: 0, respRateBpm: 0 }, events: [{ atS: 2, motion: { durationS: 1, amplitude: 8 } }] },
      { rateHz: 100, durationS: 4 },
    );
    assert.ok(acDc(r.ir!.subarray(200, 300)) > 3 * acDc(r.ir!.subarray(0, 100)));
    assert.ok(Math.abs(acDc(r.ir!.subarray(310, 400)) - acDc(r.ir!.subarray(0, 100))) < 0.005);
  });
});

describe('recording source', () => {
  test('plays a recording back interpolated at any instant, looping', () => {
    const src = new RecordingSource({
      rateHz: 10,
      red: Float64Array.from([100000, 100010, 100020]),
      ir: Float64Array.from([1, 2, 3].map((v) => v * 50000)),
      meta: { format: 'csv' },
    });
    assert.equal(src.at(0.05).red, 100005);
    assert.equal(src.at(0.2).ir, 50000, 'wraps after one pass (0.2 s)');
    assert.equal(src.durationS, 0.2);
  });

  test('maps monitor PLETH (rises with blood) to photodiode-like counts (fall with blood)', () => {
    const pleth = Float64Array.from({ length: 100 }, (_, i) => 0.5 + 0.4 * Math.sin(i / 5));
    const src = new RecordingSource({ rateHz: 125, ir: pleth, meta: { format: 'bidmc-signals' } });
    const top = src.at(Math.round((Math.PI / 2) * 5) / 125).ir;
    const bottom = src.at(Math.round(((3 * Math.PI) / 2) * 5) / 125).ir;
    assert.ok(top < bottom);
    assert.ok(top > 90000 && bottom < 110000);
  });
});
