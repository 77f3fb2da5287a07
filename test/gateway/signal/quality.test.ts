import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assessQuality, QUALITY, type WindowFeatures } from '../../../gateway/signal/quality.ts';
import type { QualityReason } from '../../../protocol/schemas.ts';

const clean: WindowFeatures = {
  periodicity: 0.95,
  template: 0.99,
  rateDisagreement: 0.01,
  regularity: 1,
  motionIndex: 1.3,
  clippedFraction: 0,
  jumps: 0,
  perfusionIndex: 1.5,
  dcFraction: 0.4,
  channelCorrelation: 0.995,
  rateAmbiguous: false,
  pulseLost: false,
  amplitudeRatio: 1,
  amplitudeJump: 1.1,
  excursionRatio: 1.3,
  amplitudeSpread: 0.08,
  roughness: 4,
  spikiness: 0.2,
};
const judge = (over: Partial<WindowFeatures>) => {
  const reasons: QualityReason[] = [];
  const sqi = assessQuality({ ...clean, ...over }, reasons);
  return { sqi, reasons };
};

describe('assessQuality', () => {
  it('rates a clean window high, with no reasons', () => {
    const { sqi, reasons } = judge({});
    assert.ok(sqi > 0.85, `sqi ${sqi}`);
    assert.deepEqual(reasons, []);
  });

  const cases: [string, Partial<WindowFeatures>, QualityReason][] = [
    ['clipping', { clippedFraction: 0.2 }, 'clipping'],
    ['no finger: low DC, no pulse', { dcFraction: 0.005, periodicity: 0.1, template: 0.2, pulseLost: true }, 'no-finger'],
    ['a pulse that stopped', { pulseLost: true }, 'low-perfusion'],
    ['a pulse too weak to trust', { perfusionIndex: 0.005 }, 'low-perfusion'],
    ['a pulse that collapsed against the trusted one', { amplitudeRatio: 0.1 }, 'low-perfusion'],
    ['motion: swings far beyond the beats', { excursionRatio: 9 }, 'motion'],
    ['motion: beats far larger than a moment ago', { amplitudeRatio: 5 }, 'motion'],
    ["motion: beats far larger than the last minute's, nothing trusted yet", { amplitudeRatio: Number.NaN, amplitudeJump: 6 }, 'motion'],
    ['spikes: unannounced jumps', { jumps: 3 }, 'motion'],
    ['spikes: edges sharper than any heartbeat', { spikiness: 2 }, 'motion'],
  ];
  for (const [what, over, reason] of cases) {
    it(`${what}: no number (SQI under the HR threshold), reason ${reason}`, () => {
      const { sqi, reasons } = judge(over);
      assert.ok(sqi < QUALITY.hrMinSqi, `sqi ${sqi}`);
      assert.ok(reasons.includes(reason), `reasons ${reasons.join(',')}`);
    });
  }

  it('irregular rhythm and red/IR disagreement are reported', () => {
    assert.ok(judge({ regularity: 0.5 }).reasons.includes('irregular'));
    assert.ok(judge({ rateAmbiguous: true }).reasons.includes('irregular'));
    assert.ok(judge({ channelCorrelation: 0.6 }).reasons.includes('channel-disagreement'));
  });

  it('falls as the pulse shape degrades', () => {
    const a = judge({ template: 0.99 }).sqi;
    const b = judge({ template: 0.85, periodicity: 0.6, amplitudeSpread: 0.3 }).sqi;
    const c = judge({ template: 0.6, periodicity: 0.3, amplitudeSpread: 0.6, roughness: 60 }).sqi;
    assert.ok(a > b && b > c, `${a} ${b} ${c}`);
    assert.ok(c < QUALITY.hrMinSqi);
  });
});
