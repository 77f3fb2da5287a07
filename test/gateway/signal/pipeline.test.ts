import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSynthetic } from '../../../firmware-bridge/sources/synthetic.ts';
import { curveValue, getCalibration, ratioFromSpo2 } from '../../../gateway/signal/calibrations.ts';
import { analyzeRecording, MAX30102_FULL_SCALE, VitalsPipeline } from '../../../gateway/signal/index.ts';
import { synthPpg } from './synth.ts';

describe('VitalsPipeline', () => {
  // Truth from the emulator's generator (systolic + dicrotic wave, breathing, sensor noise).
  for (const [rateHz, bpm, spo2] of [
    [25, 30, 97],
    [25, 200, 88],
    [50, 72, 93],
    [64, 45, 80],
    [100, 120, 99],
    [400, 240, 93],
  ] as const) {
    it(`reads ${bpm} bpm and ${spo2} % at ${rateHz} Hz, no wrong number ever`, () => {
      const rec = renderSynthetic({ hrBpm: bpm, spo2 }, { rateHz, durationS: 40 });
      const { estimates, summary } = analyzeRecording(rec);
      const late = estimates.filter((e) => e.t > 10);
      for (const e of estimates) {
        if (e.hr !== null) assert.ok(Math.abs(e.hr - bpm) <= 1.5, `t=${e.t} hr=${e.hr}`);
        if (e.spo2 !== null) assert.ok(Math.abs(e.spo2 - spo2) <= 2, `t=${e.t} spo2=${e.spo2}`);
      }
      assert.ok(late.filter((e) => e.hr !== null).length >= 0.9 * late.length, 'HR shown for 90 % of the settled seconds');
      assert.ok(late.filter((e) => e.spo2 !== null).length >= 0.8 * late.length, 'SpO2 shown for 80 % of the settled seconds');
      assert.ok(summary.hr !== null && Math.abs(summary.hr - bpm) <= 1);
    });
  }

  it('reads the two-harmonic test pulse the same way (second generator)', () => {
    const rec = synthPpg({ rateHz: 100, bpm: 84, spo2: 93, seconds: 30, noise: 0.02, seed: 2 });
    const { summary } = analyzeRecording(rec);
    assert.ok(summary.hr !== null && Math.abs(summary.hr - 84) <= 1);
    assert.ok(summary.spo2 !== null && Math.abs(summary.spo2 - 93) <= 1);
  });

  it('answers once per second of samples with warming-up first', () => {
    const p = new VitalsPipeline({ rateHz: 50 });
    const rec = synthPpg({ rateHz: 50, bpm: 60, spo2: 97, seconds: 5, noise: 0, seed: 1 });
    const out = [];
    for (let i = 0; i < 250; i++) {
      const e = p.push(rec.red[i]!, rec.ir[i]!);
      if (e) out.push([i, e] as const);
    }
    assert.deepEqual(
      out.map(([i]) => i),
      [49, 99, 149, 199, 249],
    );
    assert.deepEqual(out[0]![1].reasons, ['warming-up']);
    assert.equal(out[0]![1].hr, null);
  });

  it('gives HR but no SpO2 from a single channel', () => {
    const rec = synthPpg({ rateHz: 100, bpm: 80, spo2: 97, seconds: 20, noise: 0.02, seed: 3 });
    const { summary } = analyzeRecording({ rateHz: 100, red: rec.red });
    assert.ok(summary.hr !== null && Math.abs(summary.hr - 80) <= 1);
    assert.equal(summary.spo2, null);
  });

  it('outputs no number for a flat (pulse-free) signal', () => {
    const red = new Float64Array(2000).fill(80000);
    const ir = new Float64Array(2000).fill(100000);
    for (let i = 0; i < 2000; i++) {
      red[i]! += Math.sin(i * 12.9898) * 5;
      ir[i]! += Math.sin(i * 78.233) * 5;
    }
    const { estimates } = analyzeRecording({ rateHz: 100, red, ir });
    assert.ok(estimates.every((e) => e.hr === null && e.spo2 === null));
  });

  it('does not read an LED-current step as a beat or a level change', () => {
    const rec = synthPpg({ rateHz: 100, bpm: 70, spo2: 95, seconds: 30, noise: 0.01, seed: 4 });
    const p = new VitalsPipeline({ rateHz: 100 });
    const out = [];
    for (let i = 0; i < rec.ir.length; i++) {
      // LED current doubled at 12.3 s: both channels double in raw counts.
      const gain = i >= 1230 ? 2 : 1;
      const e = p.push(rec.red[i]! * gain, rec.ir[i]! * gain, i === 1230);
      if (e) out.push(e);
    }
    for (const e of out.filter((x) => x.t > 5)) {
      assert.ok(e.hr !== null && Math.abs(e.hr - 70) <= 1, `t=${e.t} hr=${e.hr}`);
      assert.ok(e.spo2 !== null && Math.abs(e.spo2 - 95) <= 1, `t=${e.t} spo2=${e.spo2}`);
    }
  });

  it('uses the selected calibration', () => {
    const cal = getCalibration('maxm86161');
    const r = ratioFromSpo2(getCalibration('max30102'), 90);
    const rec = synthPpg({ rateHz: 100, bpm: 70, spo2: 90, seconds: 20, noise: 0.01, seed: 5 });
    const { summary } = analyzeRecording(rec, { calibration: 'maxm86161' });
    const expected = curveValue(cal, r);
    assert.ok(summary.spo2 !== null && Math.abs(summary.spo2 - expected) < 1, `${summary.spo2} vs ${expected}`);
    assert.throws(() => new VitalsPipeline({ rateHz: 100, calibration: 'nope' }), /unknown calibration/);
  });

  it('shows no number while the finger is off, says so, and recovers', () => {
    const rec = renderSynthetic(
      {
        name: 'finger-off',
        initial: { hrBpm: 80, spo2: 95 },
        events: [
          { atS: 20, set: { fingerOn: false } },
          { atS: 35, set: { fingerOn: true } },
        ],
      },
      { rateHz: 50, durationS: 60 },
    );
    const { estimates } = analyzeRecording(rec);
    const off = estimates.filter((e) => e.t > 20.5 && e.t <= 36);
    assert.ok(off.every((e) => e.hr === null && e.spo2 === null && e.pi === null));
    assert.ok(off.some((e) => e.reasons.includes('no-finger')));
    const back = estimates.filter((e) => e.t > 46);
    assert.ok(back.every((e) => e.hr !== null && Math.abs(e.hr - 80) <= 1.5 && e.spo2 !== null && Math.abs(e.spo2 - 95) <= 2));
  });

  it('never shows a wrong number during a motion burst, and names motion', () => {
    const rec = renderSynthetic(
      { name: 'motion', initial: { hrBpm: 70, spo2: 96 }, events: [{ atS: 20, motion: { durationS: 10, amplitude: 6 } }] },
      { rateHz: 50, durationS: 50 },
    );
    const { estimates } = analyzeRecording(rec);
    const during = estimates.filter((e) => e.t > 20 && e.t <= 38);
    for (const e of during) {
      if (e.hr !== null) assert.ok(Math.abs(e.hr - 70) <= 10, `t=${e.t} hr=${e.hr}`);
      if (e.spo2 !== null) assert.ok(Math.abs(e.spo2 - 96) <= 4, `t=${e.t} spo2=${e.spo2}`);
    }
    assert.ok(during.filter((e) => e.reasons.includes('motion')).length >= 5);
  });

  it('does not read a steady swing as a fast pulse before any window was trusted (one weak channel)', () => {
    // A noisy single channel whose windows never earn trust, then ten seconds of a 2.4 Hz swing eight
    // times the pulse: a perfect sinusoid at 144 bpm, the shape of a pulse in every way but its size.
    const { ir, rateHz } = synthPpg({ rateHz: 30, bpm: 70, spo2: 97, seconds: 60, noise: 0.3, seed: 7, pi: 1 });
    for (let i = 30 * rateHz; i < 40 * rateHz; i++) ir[i]! *= Math.exp(-0.08 * Math.sin((2 * Math.PI * 2.4 * i) / rateHz));
    const trusted: number[] = [];
    const { estimates } = analyzeRecording(
      { rateHz, ir },
      { onFeatures: (t, f) => Number.isFinite(f.amplitudeRatio) && t <= 40 && trusted.push(t) },
    );
    assert.ok(
      estimates.filter((e) => e.t > 10 && e.t <= 30).some((e) => e.hr !== null),
      'the weak pulse is read before the swing',
    );
    for (const e of estimates.filter((x) => x.t > 30 && x.t <= 42)) {
      if (e.hr !== null) assert.ok(Math.abs(e.hr - 70) <= 10, `t=${e.t} hr=${e.hr}`);
    }
    assert.deepEqual(trusted, [], 'nor is the swing ever learnt as the pulse');
  });

  it('shows no number while the ADC is clipped at full scale', () => {
    const rec = renderSynthetic({ hrBpm: 75, spo2: 97 }, { rateHz: 100, durationS: 40 });
    const red = rec.red!;
    const ir = rec.ir!;
    for (let i = 1500; i < 2500; i++) {
      red[i] = Math.min(MAX30102_FULL_SCALE, red[i]! * 4);
      ir[i] = Math.min(MAX30102_FULL_SCALE, ir[i]! * 4);
    }
    const { estimates } = analyzeRecording({ rateHz: 100, red, ir });
    const clipped = estimates.filter((e) => e.t > 15.5 && e.t <= 25);
    assert.ok(clipped.every((e) => e.hr === null && e.spo2 === null && e.reasons.includes('clipping')));
  });

  it('survives values no sensor can produce and recovers once they stop', () => {
    const rec = renderSynthetic({ hrBpm: 66, spo2: 96 }, { rateHz: 50, durationS: 50 });
    const p = new VitalsPipeline({ rateHz: 50 });
    const out = [];
    const junk = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -5, 0, 1e12];
    for (let i = 0; i < rec.ir!.length; i++) {
      const bad = i >= 500 && i < 600;
      const e = p.push(bad ? junk[i % junk.length]! : rec.red![i]!, bad ? junk[(i + 2) % junk.length]! : rec.ir![i]!);
      if (e) out.push(e);
    }
    for (const e of out) {
      assert.ok(Number.isFinite(e.sqi) && e.sqi >= 0 && e.sqi <= 1);
      for (const v of [e.hr, e.spo2, e.pi]) assert.ok(v === null || Number.isFinite(v));
    }
    assert.ok(out.filter((e) => e.t > 10 && e.t <= 19).every((e) => e.hr === null && e.reasons.includes('clipping')));
    const late = out.filter((e) => e.t > 35);
    assert.ok(late.length > 10 && late.every((e) => e.hr !== null && Math.abs(e.hr - 66) <= 1.5));
  });

  it('judges a recording shorter than the warm-up once, at its end (OxiWear files last 2.6 s and up)', () => {
    const rec = renderSynthetic({ hrBpm: 75, spo2: 88 }, { rateHz: 64, durationS: 2.7 });
    const { estimates, summary } = analyzeRecording(rec);
    assert.ok(
      estimates.every((e) => e.hr === null),
      'no per-second number before the warm-up',
    );
    assert.ok(summary.spo2 !== null && Math.abs(summary.spo2 - 88) <= 2.5, `spo2 ${summary.spo2}`);
    assert.ok(summary.r !== null);
  });
});
