/** One contract for both spool writers: on a worker thread (the relay's default) and on the calling thread. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { DurableSpool } from '../../../cloud-relay/ingest/durable-spool.ts';
import { type SpoolEntry, type SpoolOp, SpoolWriteError } from '../../../cloud-relay/ingest/spool.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-durable-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const admit = (msgId: string, seq: number, overrides: Partial<SpoolEntry> = {}): SpoolOp => ({
  op: 'admit',
  entry: {
    gatewayId: 'gw-durable-01',
    patientId: 'patient-1',
    kind: 'vitals',
    msgId,
    seq,
    payload: `{"msgId":"${msgId}"}`,
    receivedAt: 1000 + seq,
    keep: true,
    ...overrides,
  },
});

let files = 0;
for (const thread of [true, false]) {
  describe(thread ? 'spool writer on a worker thread' : 'spool writer on the calling thread', () => {
    const open = async () => {
      const path = join(dir, `spool-${files++}.db`);
      return { path, spool: await DurableSpool.open(path, { thread }) };
    };

    test('a commit is on disk when it resolves, with one result per op', async () => {
      const { path, spool } = await open();
      const results = await spool.commit([
        admit('dur-msg-01', 1),
        admit('dur-msg-01', 1),
        {
          op: 'quarantine',
          gatewayId: 'gw-durable-01',
          kind: 'vitals',
          code: 'not-json',
          reason: 'x',
          payload: Buffer.from('{'),
          receivedAt: 5,
        },
        admit('dur-msg-03', 3),
      ]);
      assert.deepEqual(
        results.map((r) => (r === null ? 'quarantined' : r.duplicate ? 'duplicate' : 'admitted')),
        ['admitted', 'duplicate', 'quarantined', 'admitted'],
      );
      assert.deepEqual(results[3] && !results[3].duplicate ? results[3].seq.newGap : null, [2, 2]);
      const other = new Database(path, { readonly: true });
      assert.deepEqual(
        other.prepare('SELECT msg_id FROM spool ORDER BY id').all(),
        [{ msg_id: 'dur-msg-01' }, { msg_id: 'dur-msg-03' }],
        'another connection sees the commit',
      );
      other.close();
      assert.equal(spool.depth(), 2);
      assert.equal(spool.quarantined().length, 1);
      assert.deepEqual(spool.gaps('gw-durable-01'), [{ kind: 'vitals', highestSeq: 3, missing: [[2, 2]] }]);
      await spool.close();
    });

    test('rows leave only when removed; depth follows', async () => {
      const { spool } = await open();
      await spool.commit([admit('dur-msg-11', 1), admit('dur-msg-12', 2), admit('dur-msg-13', 3)]);
      const [first, second] = spool.peek(2);
      await spool.remove([first!.id, second!.id]);
      assert.deepEqual(
        spool.peek(10).map((r) => r.msgId),
        ['dur-msg-13'],
      );
      assert.equal(spool.depth(), 1);
      assert.equal(await spool.pruneSeen(2000), 3, 'dedupe memory pruned by age');
      await spool.close();
    });

    test('a group that cannot be committed keeps nothing and rejects with SpoolWriteError', async () => {
      const { spool } = await open();
      const broken = admit('dur-msg-21', 2, { payload: null as unknown as string });
      await assert.rejects(spool.commit([admit('dur-msg-20', 1), broken]), SpoolWriteError);
      assert.equal(spool.depth(), 0);
      assert.equal(spool.peek(10).length, 0);
      const again = await spool.commit([admit('dur-msg-20', 1)]);
      assert.equal(again[0]?.duplicate, false, 'the failed group left no dedupe entry');
      await spool.close();
    });

    test('after close, commits reject and the spool reports itself closed', async () => {
      const { path, spool } = await open();
      await spool.commit([admit('dur-msg-31', 1)]);
      await spool.close();
      assert.equal(spool.open, false);
      await assert.rejects(spool.commit([admit('dur-msg-32', 2)]), SpoolWriteError);
      const reopened = await DurableSpool.open(path, { thread });
      assert.equal(reopened.depth(), 1, 'what was committed is there at the next open');
      assert.equal((await reopened.commit([admit('dur-msg-31', 1)]))[0]?.duplicate, true);
      await reopened.close();
    });
  });
}

test('a draining thread stamps a reading stored when the store accepted it, not when the busy relay thread hears of it', async () => {
  const stored: Array<{ times: number[]; storedAt: number; heardAt: number }> = [];
  const spool = await DurableSpool.open(join(dir, `spool-${files++}.db`), {
    drain: { store: { sqlite: { path: join(dir, `history-${files}.db`) } }, batchSize: 100, minBackoffMs: 50, maxBackoffMs: 200 },
    onDrainEvent: (event) => {
      if (event.event === 'stored') stored.push({ times: [...event.times], storedAt: event.storedAt, heardAt: Date.now() });
    },
  });
  const t = Date.now();
  const payload = JSON.stringify({ type: 'vitals', clock: { quality: 'synced' }, readings: [{ t, hr: 71, spo2: 97, pi: 1.2, sqi: 0.9 }] });
  await spool.commit([admit('dur-msg-41', 1, { payload })]);
  // The relay's event loop is busy for a while: the thread stores meanwhile, and its stamp says so.
  const busyUntil = Date.now() + 1000;
  while (Date.now() < busyUntil);
  const deadline = Date.now() + 5000;
  while (stored.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  await spool.close();
  assert.equal(stored.length, 1);
  const [event] = stored;
  assert.deepEqual(event?.times, [t]);
  assert.ok(event && event.storedAt >= t && event.storedAt <= busyUntil, 'stamped by the thread while the relay was busy');
  assert.ok(event && event.heardAt - event.storedAt >= 300, 'the relay heard of it only after its loop was free');
});
