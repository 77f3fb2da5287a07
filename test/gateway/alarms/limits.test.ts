import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode } from '../../../protocol/codec.ts';
import { newId } from '../../../protocol/ids.ts';
import { DEFAULT_LIMITS, resolveLimits } from '../../../protocol/limits.ts';

describe('per-patient limits document', () => {
  it('an empty document gives every documented default', () => {
    const result = resolveLimits({});
    assert.ok(result.ok);
    assert.deepEqual(result.limits, DEFAULT_LIMITS);
  });

  it('an absent field keeps the default, a given one replaces it', () => {
    const result = resolveLimits({ 'spo2-low': { limit: 88 }, escalation: { afterS: 60 } });
    assert.ok(result.ok);
    assert.equal(result.limits['spo2-low'].limit, 88);
    assert.equal(result.limits['spo2-low'].delayS, DEFAULT_LIMITS['spo2-low'].delayS);
    assert.equal(result.limits.escalation.afterS, 60);
    assert.equal(DEFAULT_LIMITS['spo2-low'].limit, 90, 'defaults are not mutated');
  });

  it('names an unknown rule or field', () => {
    const a = resolveLimits({ 'spo2-lwo': { limit: 88 } });
    assert.equal(a.ok, false);
    assert.match(a.ok ? '' : a.reason, /unknown property "spo2-lwo"/);
    const b = resolveLimits({ 'hr-high': { limt: 130 } });
    assert.match(b.ok ? '' : b.reason, /\/hr-high: unknown property "limt"/);
  });

  it('refuses out-of-range values, naming the field', () => {
    const a = resolveLimits({ 'hr-high': { limit: 1000 } });
    assert.match(a.ok ? '' : a.reason, /\/hr-high\/limit/);
    const b = resolveLimits({ 'spo2-low': { delayS: 500 } });
    assert.match(b.ok ? '' : b.reason, /\/spo2-low\/delayS/);
    const c = resolveLimits({ 'sensor-off': { priority: 'urgent' } });
    assert.equal(c.ok, false);
    assert.equal(resolveLimits(null).ok, false);
    assert.equal(resolveLimits([]).ok, false);
  });

  it('refuses a severe level that does not lie beyond the first level', () => {
    const a = resolveLimits({ 'spo2-low-severe': { limit: 92 } });
    assert.match(a.ok ? '' : a.reason, /spo2-low-severe\/limit: 92 must be below the spo2-low limit 90/);
    const b = resolveLimits({ 'hr-high-severe': { limit: 110 } });
    assert.match(b.ok ? '' : b.reason, /hr-high-severe/);
    const c = resolveLimits({ 'hr-low': { limit: 130 }, 'hr-low-severe': { limit: 40 } });
    assert.match(c.ok ? '' : c.reason, /hr-low\/limit: 130 must be below the hr-high limit/);
  });

  it('is what the config downlink carries', () => {
    const base = { v: 1, type: 'config', msgId: newId(), configVersion: 3, issuedAt: 1 };
    assert.ok(decode('config', JSON.stringify({ ...base, limits: { 'hr-low': { limit: 45, delayS: 15 } } })).ok);
    const bad = decode('config', JSON.stringify({ ...base, limits: { 'hr-low': { limit: 'low' } } }));
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.reason, /\/limits\/hr-low\/limit/);
  });
});
