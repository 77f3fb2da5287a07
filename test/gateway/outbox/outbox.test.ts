import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { manualClock } from '../../../gateway/clock/index.ts';
import { Outbox, OutboxInputError, type OutboxOptions } from '../../../gateway/outbox/index.ts';
import { decode } from '../../../protocol/codec.ts';
import { MAX_READINGS_PER_MESSAGE } from '../../../protocol/schemas.ts';
import { alarmEvent, reading, silentLog } from './samples.ts';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-outbox-'));
  dirs.push(dir);
  return join(dir, 'outbox.db');
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function open(path: string, extra: Partial<OutboxOptions> = {}): Outbox {
  return Outbox.open({ path, gatewayId: 'gw-bed-01', clock: manualClock({ bootId: 'boot-a' }), log: silentLog, ...extra });
}

describe('outbox: durable queue and replay order', () => {
  it('sends alarm events before config acks before vitals, oldest first within each, as valid wire messages', () => {
    const outbox = open(tempDb());
    outbox.enqueueVitals([reading(1)]);
    outbox.enqueueAlarms([alarmEvent(2)]);
    outbox.enqueueVitals([reading(3)]);
    outbox.enqueueConfigAck({ configVersion: 4, accepted: false, reason: 'limit out of range' });
    outbox.enqueueAlarms([alarmEvent(5)]);
    const entries = outbox.take(10);
    assert.deepEqual(
      entries.map((e) => e.kind),
      ['alarms', 'alarms', 'config-ack', 'vitals', 'vitals'],
    );
    const alarms = entries.slice(0, 2).map((e) => decode('alarms', e.payload));
    assert.ok(alarms[0]?.ok && alarms[1]?.ok);
    assert.deepEqual(
      alarms.map((a) => (a.ok ? a.value.events[0]?.message : '')),
      ['SpO2 low 2', 'SpO2 low 5'],
    );
    const vitals = entries.slice(3).map((e) => decode('vitals', e.payload));
    assert.deepEqual(
      vitals.map((v) => (v.ok ? [v.value.seq, v.value.readings[0]?.t] : null)),
      [
        [0, reading(1).t],
        [1, reading(3).t],
      ],
    );
    const ack = decode('config-ack', entries[2]!.payload);
    assert.ok(ack.ok);
    assert.equal(ack.value.reason, 'limit out of range');
    assert.equal(ack.value.gatewayId, 'gw-bed-01');
    assert.deepEqual(ack.value.clock, { quality: 'synced', bootId: 'boot-a' });
    assert.equal(entries[0]!.topic, 'vigil/v1/gw/gw-bed-01/alarms');
    outbox.close();
  });

  it('keeps messages, their msgIds and the seq counters across a reopen; a new boot gets its own bootId', () => {
    const path = tempDb();
    const first = open(path);
    first.enqueueVitals([reading(1)]);
    first.enqueueVitals([reading(2)]);
    const before = first.take(10).map((e) => e.msgId);
    first.close(); // nothing acknowledged
    const second = Outbox.open({ path, gatewayId: 'gw-bed-01', clock: manualClock({ bootId: 'boot-b' }), log: silentLog });
    second.enqueueVitals([reading(3)]);
    const entries = second.take(10);
    assert.deepEqual(
      entries.slice(0, 2).map((e) => e.msgId),
      before,
      'the same messages are re-sent, so the relay can dedupe',
    );
    const decoded = entries.map((e) => decode('vitals', e.payload));
    assert.deepEqual(
      decoded.map((d) => (d.ok ? [d.value.seq, d.value.clock.bootId] : null)),
      [
        [0, 'boot-a'],
        [1, 'boot-a'],
        [2, 'boot-b'],
      ],
    );
    assert.equal(second.envelope('status').seq, 0, 'each kind has its own seq');
    assert.equal(second.envelope('status').seq, 1);
    second.close();
  });

  it('deletes a message only after ack; released messages are taken again', async () => {
    const path = tempDb();
    const outbox = open(path);
    for (let i = 0; i < 5; i++) outbox.enqueueVitals([reading(i)]);
    const taken = outbox.take(3);
    assert.equal(outbox.take(10).length, 2, 'in-flight messages are not handed out twice');
    assert.equal(outbox.stats().inFlight, 5);
    outbox.ack(taken[0]!.id);
    outbox.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(outbox.stats().rows, 4);
    assert.deepEqual(
      outbox.take(10).map((e) => e.id),
      [taken[1]!.id, taken[2]!.id, taken[2]!.id + 1, taken[2]!.id + 2],
    );
    outbox.close();
    const reopened = open(path);
    assert.equal(reopened.stats().rows, 4, 'the acknowledged delete was committed');
    reopened.close();
  });

  it('splits a long replay batch to respect the contract limit of readings per message', () => {
    const outbox = open(tempDb());
    outbox.enqueueVitals(Array.from({ length: MAX_READINGS_PER_MESSAGE + 10 }, (_, i) => reading(i)));
    const entries = outbox.take(10);
    assert.equal(entries.length, 2);
    const counts = entries.map((e) => {
      const d = decode('vitals', e.payload);
      return d.ok ? d.value.readings.length : -1;
    });
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      MAX_READINGS_PER_MESSAGE + 10,
    );
    outbox.close();
  });

  it('refuses invalid input with a clear error, counts it and stores nothing', () => {
    const outbox = open(tempDb());
    assert.throws(() => outbox.enqueueVitals([reading(1, { hr: 900 })]), OutboxInputError);
    assert.throws(() => outbox.enqueueAlarms([alarmEvent(1, { rule: 'NOT A RULE' })]), /\/events\/0\/rule/);
    assert.equal(outbox.stats().rejected, 2);
    assert.equal(outbox.stats().rows, 0);
    outbox.enqueueVitals([reading(2)]);
    assert.equal(outbox.take(10).length, 1);
    outbox.close();
  });

  it('records the clock quality of the moment a message was created', () => {
    const clock = manualClock({ synced: false });
    const outbox = Outbox.open({ path: tempDb(), gatewayId: 'gw-bed-01', clock, log: silentLog });
    outbox.enqueueVitals([reading(1)]);
    clock.setSynced(true);
    outbox.enqueueVitals([reading(2)]);
    const qualities = outbox.take(10).map((e) => {
      const d = decode('vitals', e.payload);
      return d.ok ? d.value.clock.quality : null;
    });
    assert.deepEqual(qualities, ['unsynced', 'synced']);
    outbox.close();
  });
});

describe('outbox: corrupted or unreadable database', () => {
  it('moves a file that is not a database aside, starts fresh and reports it', () => {
    const path = tempDb();
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const outbox = open(path);
    const stats = outbox.stats();
    assert.equal(stats.recoveredFromCorruption, true);
    assert.equal(stats.durable, true);
    assert.match(stats.movedAsideTo ?? '', /outbox\.db\.corrupt-/);
    outbox.enqueueAlarms([alarmEvent(1)]);
    assert.equal(outbox.take(1).length, 1);
    outbox.close();
    const dir = join(path, '..');
    assert.ok(
      readdirSync(dir).some((f) => f.startsWith('outbox.db.corrupt-')),
      'the bad file is kept for inspection',
    );
  });

  it('detects a database whose pages were damaged and recovers without throwing', async () => {
    const path = tempDb();
    const outbox = open(path);
    for (let i = 0; i < 20; i++) outbox.enqueueAlarms(Array.from({ length: 100 }, (_, j) => alarmEvent(i * 100 + j)));
    outbox.close();
    const { openSync, writeSync, closeSync, statSync } = await import('node:fs');
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    // Overwrite pages in the middle (b-tree pages of the message table) with garbage.
    writeSync(fd, Buffer.alloc(4096 * 4, 0xff), 0, 4096 * 4, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    const reopened = open(path);
    assert.equal(reopened.stats().recoveredFromCorruption, true);
    assert.equal(reopened.stats().rows, 0);
    reopened.enqueueVitals([reading(1)]);
    assert.equal(reopened.take(5).length, 1);
    reopened.close();
  });

  it('recovers when the file is damaged while the outbox is running, and keeps the seq counters', async () => {
    const path = tempDb();
    const outbox = open(path);
    for (let i = 0; i < 20; i++) outbox.enqueueAlarms(Array.from({ length: 100 }, (_, j) => alarmEvent(i * 100 + j)));
    const { openSync, writeSync, closeSync, statSync } = await import('node:fs');
    const { default: Database } = await import('better-sqlite3');
    // Make everything reach the main file, then damage it behind the outbox's back.
    const side = new Database(path);
    side.pragma('wal_checkpoint(TRUNCATE)');
    side.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(statSync(path).size - 4096, 0xff), 0, statSync(path).size - 4096, 4096);
    closeSync(fd);
    assert.doesNotThrow(() => outbox.take(100));
    outbox.release();
    outbox.enqueueAlarms([alarmEvent(9_999)]);
    const stats = outbox.stats();
    assert.equal(stats.recoveredFromCorruption, true);
    const entries = outbox.take(100);
    const last = entries.at(-1);
    const decoded = last ? decode('alarms', last.payload) : null;
    assert.ok(decoded?.ok);
    assert.ok(decoded.value.seq >= 20, 'seq continues after the recovery');
    outbox.close();
  });

  it('falls back to a non-durable in-memory outbox when no file can be created', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-outbox-'));
    dirs.push(dir);
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'a file where the data directory should be');
    const outbox = open(join(blocker, 'outbox.db'));
    assert.equal(outbox.stats().durable, false);
    outbox.enqueueAlarms([alarmEvent(1)]);
    assert.equal(outbox.take(1).length, 1);
    outbox.close();
  });
});
