/**
 * Steady state on a healthy link: each message is sent and acknowledged
 * before the next is enqueued. Every one must be offered to the uplink, even
 * though the previous row was deleted just before (SQLite would otherwise
 * hand the freed rowid to the next insert).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { manualClock } from '../../../gateway/clock/index.ts';
import { Outbox } from '../../../gateway/outbox/index.ts';
import { alarmEvent, reading, silentLog } from './samples.ts';

describe('outbox drain, one message at a time', () => {
  for (const kind of ['vitals', 'alarms'] as const) {
    it(`offers every ${kind} message when each is acknowledged and deleted before the next arrives`, () => {
      const path = join(mkdtempSync(join(tmpdir(), 'vigil-steady-')), 'outbox.sqlite');
      const outbox = Outbox.open({ path, gatewayId: 'gw-bed-01', clock: manualClock(), log: silentLog });
      const seqs: number[] = [];
      for (let i = 0; i < 6; i++) {
        if (kind === 'vitals') outbox.enqueueVitals([reading(i)]);
        else outbox.enqueueAlarms([alarmEvent(i)]);
        const taken = outbox.take(10);
        assert.equal(taken.length, 1, `message ${i} offered`);
        seqs.push((taken[0] as { seq: number }).seq);
        outbox.ack((taken[0] as { id: number }).id);
        outbox.flushAcks();
      }
      assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5]);
      assert.equal(outbox.stats().rows, 0);
      outbox.close();
    });
  }
});
