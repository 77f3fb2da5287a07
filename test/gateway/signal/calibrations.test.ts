import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CALIBRATIONS,
  curveValue,
  fitCalibration,
  getCalibration,
  ratioFromSpo2,
  spo2FromRatio,
  UnknownCalibrationError,
} from '../../../gateway/signal/calibrations.ts';

describe('calibrations', () => {
  it('defaults to max30102 and rejects unknown names with the known list', () => {
    assert.equal(getCalibration().name, 'max30102');
    assert.throws(
      () => getCalibration('nope'),
      (e: unknown) => e instanceof UnknownCalibrationError && /max30102/.test(e.message),
    );
    assert.throws(() => getCalibration('toString'), UnknownCalibrationError);
  });

  for (const cal of Object.values(CALIBRATIONS)) {
    it(`${cal.name} is strictly decreasing over its validity range and inverts`, () => {
      let prev = Number.POSITIVE_INFINITY;
      for (let r = cal.rMin; r <= cal.rMax; r += 0.01) {
        const raw = curveValue(cal, r);
        assert.ok(raw < prev, `not decreasing at R=${r.toFixed(2)}`);
        prev = raw;
      }
      for (const spo2 of [70, 80, 90, 95, 98]) {
        const r = ratioFromSpo2(cal, spo2);
        const back = spo2FromRatio(cal, r);
        assert.ok(back !== null && Math.abs(back - spo2) < 1e-6, `${spo2} -> R ${r} -> ${back}`);
      }
    });
  }

  it('answers null outside the calibrated range instead of extrapolating', () => {
    const cal = getCalibration('max30102');
    assert.equal(spo2FromRatio(cal, cal.rMax + 0.1), null);
    assert.equal(spo2FromRatio(cal, Number.NaN), null);
    assert.equal(spo2FromRatio(cal, 0.1), null);
  });

  it('max30102 follows Maxim AN6845 (R 0.5 -> ~95.8 %, R 1.0 -> ~79.6 %)', () => {
    const cal = getCalibration('max30102');
    assert.ok(Math.abs(spo2FromRatio(cal, 0.5)! - 95.76) < 0.05);
    assert.ok(Math.abs(spo2FromRatio(cal, 1.0)! - 79.63) < 0.05);
  });

  it('fits a known line exactly', () => {
    const pairs = [0.4, 0.6, 0.8, 1.0].map((r) => ({ r, spo2: 110 - 25 * r }));
    const cal = fitCalibration('t', '1', 'test', pairs);
    assert.ok(Math.abs(cal.b + 25) < 1e-9 && Math.abs(cal.c - 110) < 1e-9 && cal.a === 0);
    const q = fitCalibration(
      't',
      '1',
      'test',
      [0.4, 0.6, 0.8, 1.0].map((r) => ({ r, spo2: 2 * r * r - 30 * r + 110 })),
      true,
    );
    assert.ok(Math.abs(q.a - 2) < 1e-6 && Math.abs(q.b + 30) < 1e-6);
  });

  it('fits a known log curve exactly and evaluates it as one', () => {
    const pairs = [0.4, 0.6, 0.8, 1.0, 1.2].map((r) => ({ r, spo2: 77 - 25 * Math.log(r) }));
    const cal = fitCalibration('t', '1', 'test', pairs, 'log');
    assert.equal(cal.form, 'log');
    assert.ok(Math.abs(cal.b + 25) < 1e-9 && Math.abs(cal.c - 77) < 1e-9 && cal.a === 0);
    assert.ok(Math.abs(spo2FromRatio(cal, 0.7)! - (77 - 25 * Math.log(0.7))) < 1e-9);
    assert.ok(Math.abs(ratioFromSpo2(cal, 85) - Math.exp((85 - 77) / -25)) < 1e-12);
    // Widened by a quarter of the span (0.8) on each side: 0.2–1.4; a range that would reach 0 stops at half the smallest R.
    assert.ok(Math.abs(cal.rMin - 0.2) < 1e-9 && Math.abs(cal.rMax - 1.4) < 1e-9);
    const wide = fitCalibration(
      't',
      '1',
      'test',
      [0.1, 0.5, 1.5].map((r) => ({ r, spo2: 77 - 25 * Math.log(r) })),
      'log',
    );
    assert.ok(Math.abs(wide.rMin - 0.05) < 1e-9);
    assert.throws(
      () =>
        fitCalibration(
          't',
          '1',
          'test',
          [
            { r: 0, spo2: 99 },
            { r: 1, spo2: 80 },
          ],
          'log',
        ),
      /R > 0/,
    );
  });

  it('maxm86161 is the log curve fitted on OxiWear proto1', () => {
    const cal = getCalibration('maxm86161');
    assert.equal(cal.form, 'log');
    // R 1 -> c; R 0.5 -> c + b·ln 0.5.
    assert.ok(Math.abs(spo2FromRatio(cal, 1)! - 76.711) < 1e-9);
    assert.ok(Math.abs(spo2FromRatio(cal, 0.5)! - (76.711 + 25.381 * Math.LN2)) < 1e-9);
    assert.equal(spo2FromRatio(cal, 0.2), 100);
  });
});
