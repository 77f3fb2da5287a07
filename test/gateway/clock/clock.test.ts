import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MonotonicWallTime, manualClock, SLEW_RATE, systemClock } from '../../../gateway/clock/index.ts';

describe('gateway clock: monotonic wall time', () => {
  it('follows the wall clock while it runs forward, including forward steps', () => {
    const time = new MonotonicWallTime();
    assert.equal(time.next(1_000_000, 10), 1_000_000);
    assert.equal(time.next(1_001_000, 1_010), 1_001_000);
    assert.equal(time.next(5_000_000, 2_010), 5_000_000, 'an NTP step forward is taken at once');
  });

  it('keeps order when the wall clock steps back, then converges to it', () => {
    const time = new MonotonicWallTime();
    let wall = 10_000_000;
    let mono = 0;
    let last = time.next(wall, mono);
    wall -= 60_000; // a one-minute step back
    let steps = 0;
    while (time.diverged(wall)) {
      wall += 1_000;
      mono += 1_000;
      const t = time.next(wall, mono);
      assert.ok(t > last, `t went from ${last} to ${t}`);
      assert.ok(t - last <= 1_000, 'never faster than real time');
      last = t;
      steps += 1;
      assert.ok(steps < 10_000, 'never converged');
    }
    // Gap closes at (1 - SLEW_RATE) of real time: 60 s / 0.1 = 600 s.
    assert.ok(Math.abs(steps - 60 / (1 - SLEW_RATE)) <= 2, `converged after ${steps} s`);
    wall += 1_000;
    mono += 1_000;
    assert.equal(time.next(wall, mono), wall, 'back on the wall clock');
  });
});

describe('gateway clock: quality', () => {
  it('a manual clock is unsynced while diverged after a backward step', () => {
    const clock = manualClock({ wallMs: 2_000_000_000_000 });
    clock.nowMs();
    assert.equal(clock.quality(), 'synced');
    clock.setWall(2_000_000_000_000 - 3_600_000);
    const t = clock.nowMs();
    assert.ok(t >= 2_000_000_000_000);
    assert.equal(clock.quality(), 'unsynced');
    clock.setSynced(false);
    clock.setWall(2_000_000_000_000 + 10_000_000);
    clock.nowMs();
    assert.equal(clock.quality(), 'unsynced');
    clock.setSynced(true);
    assert.equal(clock.quality(), 'synced');
  });

  it('the system clock is synced only when the timesyncd flag exists or configuration says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-clock-'));
    try {
      const flag = join(dir, 'synchronized');
      const clock = systemClock({ timesyncFlagFile: flag, recheckMs: 0 });
      assert.equal(clock.quality(), 'unsynced');
      writeFileSync(flag, '');
      assert.equal(clock.quality(), 'synced');
      assert.equal(systemClock({ timesyncFlagFile: join(dir, 'absent'), assumeSynced: true }).quality(), 'synced');
      assert.notEqual(systemClock().bootId, clock.bootId, 'a new bootId per start');
      const a = clock.monoMs();
      const b = clock.monoMs();
      assert.ok(Number.isInteger(a) && b >= a);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
