import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionRateLimiter } from '../../../cloud-relay/broker/connection-rate.ts';
import { FakeClock } from '../support/fake-clock.ts';

test('each address gets its own allowance per window, renewed when the window passes', () => {
  const clock = new FakeClock();
  const limiter = new ConnectionRateLimiter(2, 60_000, clock);
  assert.deepEqual([limiter.admit('10.0.0.1'), limiter.admit('10.0.0.1'), limiter.admit('10.0.0.1')], [true, true, false]);
  assert.equal(limiter.admit('10.0.0.2'), true, 'another address is not affected');
  clock.advance(59_999);
  assert.equal(limiter.admit('10.0.0.1'), false);
  clock.advance(1);
  assert.equal(limiter.admit('10.0.0.1'), true);
});

test('zero disables the limit', () => {
  const limiter = new ConnectionRateLimiter(0, 60_000, new FakeClock());
  for (let i = 0; i < 1000; i++) assert.equal(limiter.admit('10.0.0.1'), true);
});
