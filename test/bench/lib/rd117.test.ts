import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auc } from './metrics.ts';
import { RD117_BUFFER, rd117, rd117Stream } from './rd117.ts';
import { detectRPeaks } from './rpeaks.ts';

/** MAX30102-like counts at 25 Hz: sharp systolic dip in transmitted light, then the dicrotic wave. */
function ppg25(bpm: number, seconds: number, acIr: number, r: number, dicrotic = 0.15): { ir: Float64Array; red: Float64Array } {
  const n = seconds * 25;
  const ir = new Float64Array(n);
  const red = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ph = ((i / 25) * bpm) / 60;
    const f = ph - Math.floor(ph);
    const pulse = Math.exp(-0.5 * ((f - 0.2) / 0.08) ** 2) + dicrotic * Math.exp(-0.5 * ((f - 0.5) / 0.1) ** 2);
    ir[i] = 100_000 * (1 - acIr * pulse);
    red[i] = 80_000 * (1 - r * acIr * pulse);
  }
  return { ir, red };
}

describe('RD117 port', () => {
  it('reads the rate of a clean pulse and maps R through its table', () => {
    const { ir, red } = ppg25(75, 4, 0.02, 0.5);
    const out = rd117(ir.subarray(0, RD117_BUFFER), red.subarray(0, RD117_BUFFER));
    assert.ok(out.hr !== null && Math.abs(out.hr - 75) <= 4, `hr ${out.hr}`);
    // Table: -45.060·R² + 30.354·R + 94.845 at R = 0.5 is 98.8 → 99 (the table is indexed by R·100).
    assert.ok(out.ratio !== null && Math.abs(out.ratio - 50) <= 4, `ratio ${out.ratio}`);
    assert.ok(out.spo2 !== null && out.spo2 >= 98 && out.spo2 <= 100);
  });

  it('counts a strong dicrotic wave as a second beat (its known double-rate weakness)', () => {
    const { ir, red } = ppg25(75, 4, 0.02, 0.5, 0.45);
    const out = rd117(ir, red);
    assert.ok(out.hr !== null && out.hr > 120, `hr ${out.hr}`);
  });

  it('gives no HR on a flat signal, and streams once per second after a 4 s fill', () => {
    const flat = new Float64Array(RD117_BUFFER).fill(100_000);
    assert.equal(rd117(flat, flat).hr, null);
    const { ir, red } = ppg25(60, 10, 0.02, 0.6);
    const s = rd117Stream(ir, red);
    assert.equal(s.length, 10);
    assert.equal(s[2]!.hr, null);
    assert.ok(s.slice(3).every((e) => e.hr !== null));
  });
});

describe('R-peak detector', () => {
  it('finds every R wave of a synthetic ECG, none extra', () => {
    const fs = 125;
    const rr = [0.8, 0.78, 0.82, 0.5, 1.1, 0.8, 0.79, 0.81, 0.8, 0.8, 0.8, 0.8];
    const beats: number[] = [];
    let t = 0.5;
    for (const d of rr) {
      t += d;
      beats.push(t);
    }
    const ecg = new Float64Array(Math.ceil((t + 1) * fs));
    for (let i = 0; i < ecg.length; i++) {
      const s = i / fs;
      let v = 0.1 * Math.sin(2 * Math.PI * 0.3 * s);
      for (const b of beats) {
        v += Math.exp(-0.5 * ((s - b) / 0.012) ** 2) - 0.15 * Math.exp(-0.5 * ((s - b - 0.03) / 0.015) ** 2);
        v += 0.2 * Math.exp(-0.5 * ((s - b - 0.25) / 0.05) ** 2);
      }
      ecg[i] = v;
    }
    const found = detectRPeaks(ecg, fs).map((i) => i / fs);
    assert.equal(found.length, beats.length);
    for (const [k, f] of found.entries()) assert.ok(Math.abs(f - beats[k]!) < 0.02, `beat ${k}: ${f} vs ${beats[k]}`);
  });
});

describe('auc', () => {
  it('is 1 for perfect separation, 0.5 for ties, 0 reversed', () => {
    assert.equal(auc([3, 4], [1, 2]), 1);
    assert.equal(auc([1, 1], [1, 1]), 0.5);
    assert.equal(auc([1], [2]), 0);
    assert.equal(auc([2, 3], [1, 3]), 0.625);
  });
});
