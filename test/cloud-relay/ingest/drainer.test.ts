import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { SpoolDrainer, toStorePoints } from '../../../cloud-relay/ingest/drainer.ts';
import { DurableSpool } from '../../../cloud-relay/ingest/durable-spool.ts';
import { RelayMetrics } from '../../../cloud-relay/metrics.ts';
import { HistoryStoreError, type StoredReading } from '../../../cloud-relay/store/history-store.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { MemoryHistoryStore } from '../support/memory-store.ts';
import { alarmEvent, alarms, reading, vitals } from '../support/messages.ts';
import { eventually } from '../support/relay-harness.ts';

const t0 = Date.UTC(2026, 0, 15, 8);

async function setup<S extends MemoryHistoryStore = MemoryHistoryStore>(
  batchSize = 2,
  options: { maxBatchRows?: number; maxBatchBytes?: number; concurrency?: number; store?: S } = { maxBatchRows: batchSize },
) {
  const clock = new FakeClock();
  const spool = await DurableSpool.open(':memory:');
  const { store: given, ...catchUp } = options;
  const store = (given ?? new MemoryHistoryStore()) as S;
  const metrics = new RelayMetrics();
  const drainer = new SpoolDrainer({
    spool,
    store,
    clock,
    metrics,
    log: pino({ level: 'silent' }),
    batchSize,
    ...catchUp,
    minBackoffMs: 100,
    maxBackoffMs: 400,
  });
  let seq = 0;
  const add = async (payload: Buffer, kind: 'vitals' | 'alarms' = 'vitals') => {
    const message = JSON.parse(payload.toString()) as { msgId: string };
    const entry = {
      gatewayId: 'gw-drain-01',
      patientId: 'patient-1',
      kind,
      msgId: message.msgId,
      seq: seq++,
      payload: payload.toString(),
      receivedAt: clock.now(),
      keep: true,
    };
    await spool.commit([{ op: 'admit', entry }]);
  };
  return { clock, spool, store, metrics, drainer, add };
}

test('spool rows become store points with the patient assigned at receipt', async () => {
  const { spool, add } = await setup();
  await add(vitals('gw-drain-01', 1, [reading(t0), reading(t0 + 1000, null, null)]));
  await add(alarms('gw-drain-01', 1, [alarmEvent(t0)]), 'alarms');
  const { readings, events } = toStorePoints(spool.peek(10));
  assert.equal(readings.length, 2);
  assert.deepEqual(readings[1], {
    gatewayId: 'gw-drain-01',
    patientId: 'patient-1',
    t: t0 + 1000,
    clockQuality: 'synced',
    hr: null,
    spo2: null,
    pi: 2.5,
    sqi: 0.9,
  });
  assert.equal(events[0]?.rule, 'spo2-low');
  assert.equal(events[0]?.patientId, 'patient-1');
});

test('batches leave the spool only after the store accepted them', async () => {
  const { spool, store, drainer, add } = await setup(2);
  for (let i = 0; i < 5; i++) await add(vitals('gw-drain-01', i, [reading(t0 + i * 1000)]));
  store.failing = true;
  await assert.rejects(drainer.drainOnce());
  assert.equal(spool.depth(), 5);
  store.failing = false;
  assert.equal(await drainer.drainOnce(), 2);
  assert.equal(spool.depth(), 3);
  assert.equal(store.readings.size, 2);
});

test('a deep spool goes out in bigger batches, bounded by rows and by payload bytes', async () => {
  const { spool, store, drainer, add } = await setup(2, { maxBatchRows: 5 });
  for (let i = 0; i < 12; i++) await add(vitals('gw-drain-01', i, [reading(t0 + i * 1000)]));
  assert.equal(await drainer.drainOnce(), 5, 'catching up: up to maxBatchRows');
  assert.equal(await drainer.drainOnce(), 5);
  assert.equal(await drainer.drainOnce(), 2, 'what is left');
  assert.equal(store.readings.size, 12);
  assert.equal(spool.depth(), 0);

  const bytes = await setup(2, { maxBatchRows: 100, maxBatchBytes: 1 });
  for (let i = 0; i < 6; i++) await bytes.add(vitals('gw-drain-01', i, [reading(t0 + i * 1000)]));
  assert.equal(await bytes.drainer.drainOnce(), 2, 'the byte budget stops growth after the first batchSize rows');

  const oneBig = await setup(2, { maxBatchRows: 100, maxBatchBytes: 1_500 });
  for (let i = 0; i < 20; i++) await oneBig.add(vitals('gw-drain-01', i, [reading(t0 + i * 1000)]));
  const size = Buffer.byteLength(oneBig.spool.peek(1)[0]!.payload);
  const taken = await oneBig.drainer.drainOnce();
  assert.ok(taken > 2 && taken < 20 && (taken - 2) * size <= 1_500 + 2 * size, `${taken} rows of ${size} bytes`);
});

test('while the store fails the drainer backs off exponentially, then drains everything', async () => {
  const { clock, spool, store, drainer, metrics, add } = await setup(2);
  store.failing = true;
  for (let i = 0; i < 5; i++) await add(vitals('gw-drain-01', i, [reading(t0 + i * 1000)]));
  drainer.start();
  // Each wait ends once the failed write's backoff timer is armed.
  await eventually(() => store.writeCalls === 1 && clock.pendingTimers === 1);
  // Backoff 100, 200, 400, 400 ms: a retry happens only when its delay has passed.
  for (const delay of [100, 200, 400, 400]) {
    const calls = store.writeCalls;
    clock.advance(delay - 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(store.writeCalls, calls, `no retry before ${delay} ms`);
    clock.advance(1);
    await eventually(() => store.writeCalls === calls + 1 && clock.pendingTimers === 1);
  }
  assert.equal(spool.depth(), 5, 'the spool holds everything meanwhile');
  assert.equal((await metrics.storeWriteFailures.get()).values[0]?.value, 5);
  store.failing = false;
  clock.advance(400);
  await eventually(() => spool.depth() === 0);
  assert.equal(store.readings.size, 5);
  const { left } = await drainer.stop();
  assert.equal(left, 0);
});

test('an idle drainer wakes when kicked', async () => {
  const { spool, store, drainer, add } = await setup();
  drainer.start();
  await new Promise((r) => setImmediate(r));
  await add(vitals('gw-drain-01', 1, [reading(t0)]));
  drainer.kick();
  await eventually(() => spool.depth() === 0);
  assert.equal(store.readings.size, 1);
  await drainer.stop();
});

test('stop with a deadline drains what it can; the rest stays in the spool', async () => {
  const { spool, store, drainer, add } = await setup(2);
  for (let i = 0; i < 5; i++) await add(vitals('gw-drain-01', i, [reading(t0 + i * 1000)]));
  assert.deepEqual(await drainer.stop(10_000), { left: 0 });
  assert.equal(store.readings.size, 5);
  await add(vitals('gw-drain-01', 9, [reading(t0 + 9000)]));
  store.failing = true;
  assert.deepEqual(await drainer.stop(10_000), { left: 1 });
  assert.equal(spool.depth(), 1);
});

/** A store whose reading writes wait until the test settles them, in any order. */
class GatedStore extends MemoryHistoryStore {
  readonly waiting: Array<{ size: number; settle: (ok: boolean) => void }> = [];
  written = 0;
  override async writeReadings(readings: readonly StoredReading[]): Promise<void> {
    const ok = await new Promise<boolean>((settle) => this.waiting.push({ size: readings.length, settle }));
    if (!ok) {
      this.writeCalls++;
      throw new HistoryStoreError('store unavailable');
    }
    await super.writeReadings(readings);
    this.written += readings.length;
  }
}

test('with two writes in flight, the next batch goes out while the store takes the first; nothing is written twice', async () => {
  const store = new GatedStore();
  const { clock, spool, drainer, add } = await setup(2, { maxBatchRows: 2, concurrency: 2, store });
  for (let i = 0; i < 6; i++) await add(vitals('gw-drain-01', i, [reading(t0 + i * 1000)]));
  drainer.start();
  await eventually(() => store.waiting.length === 2);
  assert.deepEqual(
    store.waiting.map((w) => w.size),
    [2, 2],
    'rows 1–2 and 3–4 in flight at once',
  );
  // The second write finishes first: its rows leave the spool, and rows 5–6 go out at once.
  store.waiting.splice(1, 1)[0]!.settle(true);
  await eventually(() => store.waiting.length === 2 && spool.depth() === 4);
  // The first write fails: the third may finish, then rows 1–2 are read again after the backoff.
  store.waiting.shift()!.settle(false);
  store.waiting.shift()!.settle(true);
  await eventually(() => spool.depth() === 2);
  await eventually(() => clock.pendingTimers === 1);
  assert.equal(store.waiting.length, 0, 'nothing new starts before the backoff');
  clock.advance(100);
  // One write at a time while recovering.
  await eventually(() => store.waiting.length === 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(store.waiting.length, 1);
  store.waiting.shift()!.settle(true);
  await eventually(() => spool.depth() === 0);
  assert.equal(store.written, 6, 'each reading written once');
  assert.equal(store.readings.size, 6);
  await drainer.stop();
});
