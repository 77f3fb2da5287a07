import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FingerDetector, LedController } from '../../../firmware-bridge/max30102/led-control.ts';

const FS = 0x3ffff;

describe('LED current control', () => {
  test('leaves the current alone while the DC is inside the window', () => {
    const c = new LedController();
    for (let t = 0; t < 10_000; t += 100) assert.equal(c.update(0.5 * FS, t, 6.4, true), undefined);
  });

  test('acts only after the DC has stayed outside the window for settleMs, aiming at the target', () => {
    const c = new LedController({ settleMs: 1000 });
    assert.equal(c.update(0.1 * FS, 0, 6.4, true), undefined);
    assert.equal(c.update(0.1 * FS, 900, 6.4, true), undefined);
    assert.equal(c.update(0.1 * FS, 1000, 6.4, true), 32); // 6.4 · 0.5 / 0.1
  });

  test('a brief excursion (a breath, a motion burst) does not move it', () => {
    const c = new LedController({ settleMs: 1000 });
    assert.equal(c.update(0.1 * FS, 0, 6.4, true), undefined);
    assert.equal(c.update(0.5 * FS, 500, 6.4, true), undefined);
    assert.equal(c.update(0.1 * FS, 1200, 6.4, true), undefined, 'the clock restarted when the DC came back');
  });

  test('hysteresis: no second change within holdMs, so it does not hunt', () => {
    const c = new LedController({ settleMs: 0, holdMs: 2000 });
    assert.equal(c.update(0.9 * FS, 0, 20, true), 11.2);
    assert.equal(c.update(0.1 * FS, 1000, 11.2, true), undefined);
    assert.ok(c.update(0.1 * FS, 2100, 11.2, true)! > 11.2);
  });

  test('clipping acts at once and at least halves the current', () => {
    const c = new LedController({ settleMs: 5000 });
    assert.equal(c.update(FS, 0, 20, true), 10);
  });

  test('respects the current limits and does nothing with the finger off', () => {
    const c = new LedController({ settleMs: 0, holdMs: 0, maxMa: 30, minMa: 2 });
    assert.equal(c.update(0.01 * FS, 0, 20, true), 30);
    assert.equal(c.update(0.79 * FS + 1, 10, 2.2, true), undefined);
    assert.equal(c.update(0.99 * FS, 20, 2.2, true), 2);
    assert.equal(c.update(0.001 * FS, 30, 6.4, false), undefined);
  });
});

describe('finger detection', () => {
  test('off below 2 % of full scale at once; on again only above 4 % held for 500 ms', () => {
    const f = new FingerDetector();
    assert.equal(f.update(0.5 * FS, 0), true);
    assert.equal(f.update(0.01 * FS, 100), false);
    assert.equal(f.update(0.03 * FS, 200), false, 'between the thresholds: stays off');
    assert.equal(f.update(0.3 * FS, 300), false);
    assert.equal(f.update(0.3 * FS, 700), false);
    assert.equal(f.update(0.3 * FS, 800), true);
  });
});
