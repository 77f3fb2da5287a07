import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../../../cloud-relay/ingest/group-commit.ts';
import { Spool, SpoolWriteError } from '../../../cloud-relay/ingest/spool.ts';

test('items submitted in one turn are committed together, each answered after the commit', async () => {
  const commits: number[][] = [];
  let finishCommit = () => {};
  const group = new GroupCommit<number, string>(async (items) => {
    commits.push(items);
    await new Promise<void>((resolve) => {
      finishCommit = resolve;
    });
    return items.map((i) => `ok-${i}`);
  });
  const answers: Array<[Error | null, string | undefined]> = [];
  for (const i of [1, 2, 3]) group.submit(i, (error, result) => answers.push([error, result]));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(commits, [[1, 2, 3]]);
  assert.deepEqual(answers, [], 'nobody is answered before the commit has finished');
  finishCommit();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(answers, [
    [null, 'ok-1'],
    [null, 'ok-2'],
    [null, 'ok-3'],
  ]);
});

test('a failed commit fails every item of the group', async () => {
  const group = new GroupCommit<number, string>(async () => {
    throw new SpoolWriteError('disk full');
  });
  const errors: Array<Error | null> = [];
  group.submit(1, (e) => errors.push(e));
  group.submit(2, (e) => errors.push(e));
  await new Promise((r) => setImmediate(r));
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e instanceof SpoolWriteError));
});

test('a full group commits at once', () => {
  const sizes: number[] = [];
  const group = new GroupCommit<number, number>(async (items) => {
    sizes.push(items.length);
    return items;
  }, 2);
  for (const i of [1, 2, 3]) group.submit(i, () => {});
  assert.deepEqual(sizes, [2]);
  assert.equal(group.waiting, 1);
  group.flush();
  assert.deepEqual(sizes, [2, 1]);
});

test('while the spool is busy, new items gather into the next group', async () => {
  const commits: number[][] = [];
  const finish: Array<() => void> = [];
  const group = new GroupCommit<number, number>(
    async (items) => {
      commits.push(items);
      await new Promise<void>((resolve) => finish.push(resolve));
      return items;
    },
    100,
    1,
  );
  const answered: number[] = [];
  group.submit(1, (_e, r) => answered.push(r as number));
  await new Promise((r) => setImmediate(r));
  for (const i of [2, 3, 4]) {
    group.submit(i, (_e, r) => answered.push(r as number));
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(commits, [[1]], 'one commit in flight at a time');
  finish.shift()?.();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(commits, [[1], [2, 3, 4]], 'what gathered meanwhile goes as one group');
  finish.shift()?.();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(answered, [1, 2, 3, 4]);
});

test('the spool keeps nothing of a group whose commit fails', () => {
  const spool = new Spool(':memory:');
  const entry = (msgId: string, seq: number) => ({
    gatewayId: 'gw-group-01',
    patientId: 'p',
    kind: 'vitals' as const,
    msgId,
    seq,
    payload: '{}',
    receivedAt: seq,
    keep: true,
  });
  assert.throws(
    () =>
      spool.commitGroup(() => {
        spool.admit(entry('group-msg-01', 1));
        spool.admit(entry('group-msg-02', 2));
        throw new Error('simulated failure before commit');
      }),
    SpoolWriteError,
  );
  assert.equal(spool.depth(), 0);
  assert.equal(spool.peek(10).length, 0);
  assert.equal(spool.admit(entry('group-msg-01', 1)).duplicate, false, 'dedupe state rolled back too');
  spool.commitGroup(() => spool.admit(entry('group-msg-03', 3)));
  assert.equal(spool.depth(), 2);
  spool.close();
});
