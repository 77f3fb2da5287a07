import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { Spool, type SpoolEntry, SpoolWriteError } from '../../../cloud-relay/ingest/spool.ts';
import { newId } from '../../../protocol/ids.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = (msgId: string, seq: number, overrides: Partial<SpoolEntry> = {}): SpoolEntry => ({
  gatewayId: 'gw-spool-01',
  patientId: 'patient-1',
  kind: 'vitals',
  msgId,
  seq,
  payload: `{"msg":"${msgId}"}`,
  receivedAt: 1000 + seq,
  keep: true,
  ...overrides,
});

test('a (gateway, msgId) pair is admitted once; the same msgId from another gateway is distinct', () => {
  const spool = new Spool(':memory:');
  assert.equal(spool.admit(entry('m-00000001', 1)).duplicate, false);
  assert.equal(spool.admit(entry('m-00000001', 1)).duplicate, true);
  assert.equal(spool.admit(entry('m-00000001', 1, { gatewayId: 'gw-spool-02' })).duplicate, false);
  assert.equal(spool.depth(), 2);
  spool.close();
});

test('messages kept only for dedupe do not enter the spool', () => {
  const spool = new Spool(':memory:');
  spool.admit(entry('s-00000001', 1, { kind: 'status', keep: false }));
  assert.equal(spool.depth(), 0);
  assert.equal(spool.admit(entry('s-00000001', 1, { kind: 'status', keep: false })).duplicate, true);
  spool.close();
});

test('rows are removed only when asked, oldest first, and survive a restart with dedupe and gaps', () => {
  const path = join(dir, 'restart.db');
  const spool = new Spool(path);
  spool.admit(entry('m-00000001', 1));
  spool.admit(entry('m-00000002', 2));
  spool.admit(entry('m-00000005', 5));
  const [first] = spool.peek(1);
  spool.remove([first!.id]);
  spool.close();

  const reopened = new Spool(path);
  assert.equal(reopened.depth(), 2);
  assert.deepEqual(
    reopened.peek(10).map((r) => r.msgId),
    ['m-00000002', 'm-00000005'],
  );
  assert.equal(reopened.admit(entry('m-00000001', 1)).duplicate, true, 'dedupe outlives the spool row');
  assert.deepEqual(reopened.gaps('gw-spool-01'), [{ kind: 'vitals', highestSeq: 5, missing: [[3, 4]] }]);
  reopened.close();
});

test('kinds without seq tracking are deduped but leave no sequence state', () => {
  const spool = new Spool(':memory:');
  spool.admit(entry('s-00000001', 1, { kind: 'status', keep: false, trackSeq: false }));
  spool.admit(entry('s-00000002', 7, { kind: 'status', keep: false, trackSeq: false }));
  assert.deepEqual(spool.gaps('gw-spool-01'), []);
  assert.equal(spool.admit(entry('s-00000002', 7, { kind: 'status', keep: false, trackSeq: false })).duplicate, true);
  spool.close();
});

test('peek can be limited to one kind', () => {
  const spool = new Spool(':memory:');
  spool.admit(entry('m-00000001', 1));
  spool.admit(entry('a-00000001', 1, { kind: 'alarms' }));
  assert.deepEqual(
    spool.peek(10, 'alarms').map((r) => r.msgId),
    ['a-00000001'],
  );
  spool.close();
});

for (const [where, seenMergeRows] of [
  ['still in the log', 1000],
  ['merged into the index', 1],
] as const) {
  test(`old message ids leave the dedupe window (${where})`, () => {
    const spool = new Spool(':memory:', { seenMergeRows });
    spool.admit(entry('m-00000001', 1, { receivedAt: 1000 }));
    spool.admit(entry('m-00000002', 2, { receivedAt: 5000 }));
    assert.equal(spool.pruneSeen(2000), 1);
    assert.equal(spool.admit(entry('m-00000001', 3, { receivedAt: 6000 })).duplicate, false);
    assert.equal(spool.admit(entry('m-00000002', 4, { receivedAt: 6000 })).duplicate, true);
    spool.close();
  });
}

test('dedupe pairs moved from the log into the index stay found, through a restart in the middle of a move', () => {
  const path = join(dir, 'merge.db');
  const options = { seenMergeRows: 10, seenMergeChunk: 3 };
  const indexed = () => {
    const db = new Database(path, { readonly: true });
    try {
      return {
        seen: db.prepare('SELECT count(*) FROM seen').pluck().get() as number,
        log: db.prepare('SELECT count(*) FROM seen_log').pluck().get() as number,
      };
    } finally {
      db.close();
    }
  };
  const admitted: SpoolEntry[] = [];
  let spool = new Spool(path, options);
  const admitSome = (n: number) => {
    for (let i = 0; i < n; i++) {
      const e = entry(newId(), admitted.length + 1, { gatewayId: `gw-spool-${(admitted.length % 4) + 1}` });
      assert.equal(spool.admit(e).duplicate, false);
      admitted.push(e);
    }
  };
  const everyOneIsADuplicate = (label: string) => {
    for (const e of admitted) assert.equal(spool.admit(e).duplicate, true, `${label}: ${e.gatewayId} ${e.msgId}`);
  };
  admitSome(12);
  const midway = indexed();
  assert.ok(midway.seen > 0 && midway.seen < 10, `part of the first merge is in the index (${midway.seen})`);
  assert.equal(midway.log, 12, 'and every pair is still in the log');
  spool.close();

  spool = new Spool(path, options);
  everyOneIsADuplicate('after a restart in the middle of a merge');
  admitSome(30);
  everyOneIsADuplicate('after more merges');
  const end = indexed();
  assert.ok(end.seen >= 30, `most pairs are in the index (${end.seen})`);
  assert.equal(end.seen + end.log >= admitted.length, true);
  spool.close();

  spool = new Spool(path, options);
  everyOneIsADuplicate('after a clean restart');
  spool.close();
});

test('a write that cannot be made durable throws SpoolWriteError and records nothing', () => {
  const spool = new Spool(':memory:');
  spool.close();
  assert.throws(() => spool.admit(entry('m-00000001', 1)), SpoolWriteError);
});

test('quarantined payloads are kept for investigation', () => {
  const spool = new Spool(':memory:');
  spool.quarantine('gw-spool-01', 'vitals', 'not-json', 'not JSON', Buffer.from('{oops'), 1234);
  assert.deepEqual(spool.quarantined(), [
    { gatewayId: 'gw-spool-01', kind: 'vitals', code: 'not-json', reason: 'not JSON', receivedAt: 1234 },
  ]);
  spool.close();
});

test('sequence state from a group that rolled back is forgotten with it', () => {
  const spool = new Spool(':memory:');
  spool.admit(entry('m-00000001', 1));
  assert.throws(
    () =>
      spool.commitGroup(() => {
        spool.admit(entry('m-00000009', 9));
        throw new Error('commit interrupted');
      }),
    SpoolWriteError,
  );
  const next = spool.admit(entry('m-00000002', 2));
  assert.equal(next.duplicate, false);
  assert.deepEqual(next.duplicate ? null : next.seq.state, { highest: 2, gaps: [] }, 'seq 9 never happened');
  assert.equal(spool.admit(entry('m-00000009', 9)).duplicate, false, 'and its msgId was not remembered');
  assert.deepEqual(spool.gaps('gw-spool-01'), [{ kind: 'vitals', highestSeq: 9, missing: [[3, 8]] }]);
  spool.close();
});
