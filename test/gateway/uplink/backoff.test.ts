import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullJitterDelay, TokenBucket } from '../../../gateway/uplink/backoff.ts';

describe('reconnect backoff: exponential with full jitter', () => {
  const policy = { baseMs: 1_000, capMs: 60_000 };

  it('draws uniformly between 0 and min(cap, base·2^attempt)', () => {
    assert.equal(
      fullJitterDelay(0, policy, () => 0.999999),
      999,
    );
    assert.equal(
      fullJitterDelay(3, policy, () => 0.5),
      4_000,
    );
    assert.equal(
      fullJitterDelay(10, policy, () => 0.5),
      30_000,
      'capped',
    );
    assert.equal(
      fullJitterDelay(500, policy, () => 0.999999),
      59_999,
      'no overflow for long outages',
    );
    assert.equal(
      fullJitterDelay(5, policy, () => 0),
      0,
    );
  });

  it('spreads a fleet that lost the relay at the same moment', () => {
    // 1,000 gateways on their 6th attempt: delays spread over [0, 64 s) capped to 60 s, no second holds more than a few percent.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const perSecond = new Map<number, number>();
    for (let i = 0; i < 1_000; i++) {
      const second = Math.floor(fullJitterDelay(6, policy, random) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    assert.ok(Math.max(...perSecond.values()) < 50, `busiest second had ${Math.max(...perSecond.values())} reconnects`);
    assert.ok(perSecond.size > 50);
  });
});

describe('replay pacing: token bucket', () => {
  it('grants at most the rate per second, refilling with the injected clock', () => {
    let now = 0;
    const bucket = new TokenBucket(100, () => now);
    assert.equal(bucket.take(1_000), 100, 'one second of burst');
    assert.equal(bucket.take(1), 0);
    assert.equal(bucket.waitMs(), 10);
    now += 250;
    assert.equal(bucket.take(1_000), 25);
    now += 10_000;
    assert.equal(bucket.take(1_000), 100, 'idle time does not bank more than the burst');
  });

  it('is a no-op at an infinite rate', () => {
    const bucket = new TokenBucket(Number.POSITIVE_INFINITY, () => 0);
    assert.equal(bucket.take(10_000), 10_000);
    assert.equal(bucket.waitMs(), 0);
  });
});
