import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { manualClock } from '../../../gateway/clock/index.ts';
import { aggregateMinute, Outbox, OutboxStorageError, thinToMinutes } from '../../../gateway/outbox/index.ts';
import { decode } from '../../../protocol/codec.ts';
import type { Reading } from '../../../protocol/schemas.ts';
import { alarmEvent, reading, silentLog } from './samples.ts';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-evict-'));
  dirs.push(dir);
  return join(dir, 'outbox.db');
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function drainAll(outbox: Outbox) {
  const entries = outbox.take(100_000);
  const vitals: Reading[] = [];
  const alarms: string[] = [];
  let acks = 0;
  for (const e of entries) {
    if (e.kind === 'vitals') {
      const d = decode('vitals', e.payload);
      assert.ok(d.ok, 'every stored message stays valid after eviction');
      vitals.push(...d.value.readings);
    } else if (e.kind === 'alarms') {
      const d = decode('alarms', e.payload);
      assert.ok(d.ok);
      alarms.push(...d.value.events.map((ev) => ev.message));
    } else acks += 1;
  }
  return { entries, vitals, alarms, acks };
}

describe('outbox thinning (pure)', () => {
  it('averages a minute only over readings that had a value, and only if at least half did', () => {
    const minute = [reading(0, { hr: 60 }), reading(1, { hr: 70 }), reading(2, { hr: null, reasons: ['motion'] }), reading(3, { hr: 80 })];
    const agg = aggregateMinute(minute);
    assert.equal(agg.hr, 70);
    assert.equal(agg.t, minute[0]!.t);
    assert.deepEqual(agg.reasons, ['motion'], 'the why survives thinning');
    const mostlyBad = [reading(0, { spo2: 97 }), reading(1, { spo2: null }), reading(2, { spo2: null })];
    assert.equal(aggregateMinute(mostlyBad).spo2, null, 'a mostly-bad minute never becomes a confident number');
  });

  it('groups by wall-clock minute', () => {
    const readings = Array.from({ length: 150 }, (_, i) => reading(i));
    const thinned = thinToMinutes(readings);
    // T0 is 20 s into a minute: 40 s + 60 s + 50 s.
    assert.equal(thinned.length, 3);
    assert.deepEqual(
      thinned.map((r) => r.t),
      [readings[0]!.t, readings[40]!.t, readings[100]!.t],
    );
  });
});

describe('outbox budget: evictions in the stated order', () => {
  it('thins old vitals to per-minute aggregates before dropping anything, and counts it', () => {
    const outbox = Outbox.open({ path: tempDb(), gatewayId: 'gw-bed-01', clock: manualClock(), log: silentLog, budget: { maxRows: 300 } });
    outbox.enqueueAlarms([alarmEvent(0)]);
    for (let i = 0; i < 400; i++) outbox.enqueueVitals([reading(i)]);
    const stats = outbox.stats();
    assert.ok(stats.rows <= 300, `rows ${stats.rows}`);
    assert.ok(stats.evictedBy.vitalsThinned > 0);
    assert.equal(stats.evictedBy.vitalsDropped, 0, 'thinning alone made room');
    assert.equal(stats.evictedBy.alarmsDropped, 0);
    assert.equal(stats.evicted, stats.evictedBy.vitalsThinned);
    const { vitals, alarms } = drainAll(outbox);
    assert.deepEqual(alarms, ['SpO2 low 0']);
    // Oldest first, still in time order; the oldest part is one reading per minute, the newest at full resolution.
    const ts = vitals.map((r) => r.t);
    assert.deepEqual(
      ts,
      [...ts].sort((a, b) => a - b),
    );
    assert.equal(Math.floor((ts[1]! - ts[0]!) / 1000), 40, 'first minute thinned to one reading');
    assert.equal(ts[ts.length - 1]! - ts[ts.length - 2]!, 1000, 'recent data kept at 1 Hz');
    outbox.close();
  });

  it('then drops the oldest vitals, then config acks, and alarm events last', () => {
    const outbox = Outbox.open({
      path: tempDb(),
      gatewayId: 'gw-bed-01',
      clock: manualClock(),
      log: silentLog,
      budget: { maxRows: 20, evictTo: 1 },
    });
    for (let i = 0; i < 5; i++) outbox.enqueueAlarms([alarmEvent(i)]);
    for (let i = 0; i < 3; i++) outbox.enqueueConfigAck({ configVersion: i + 1, accepted: true });
    // One reading per minute: nothing to thin, so vitals are dropped, oldest first.
    for (let i = 0; i < 30; i++) outbox.enqueueVitals([reading(i * 60)]);
    let stats = outbox.stats();
    assert.equal(stats.rows, 20);
    assert.deepEqual(stats.evictedBy, { vitalsThinned: 0, vitalsDropped: 18, configAcksDropped: 0, alarmsDropped: 0 });
    let drained = drainAll(outbox);
    assert.equal(drained.vitals[0]!.t, reading(18 * 60).t, 'the oldest vitals went first');
    outbox.release();

    // Alarms keep coming: vitals go entirely, then the config acks, only then the oldest alarm events.
    for (let i = 5; i < 22; i++) outbox.enqueueAlarms([alarmEvent(i)]);
    stats = outbox.stats();
    assert.equal(stats.rows, 20);
    assert.deepEqual(stats.evictedBy, { vitalsThinned: 0, vitalsDropped: 30, configAcksDropped: 3, alarmsDropped: 2 });
    drained = drainAll(outbox);
    assert.equal(drained.vitals.length, 0);
    assert.equal(drained.acks, 0);
    assert.deepEqual(
      drained.alarms,
      Array.from({ length: 20 }, (_, i) => `SpO2 low ${i + 2}`),
    );
    outbox.close();
  });

  it('never evicts a message that is in flight', () => {
    const outbox = Outbox.open({
      path: tempDb(),
      gatewayId: 'gw-bed-01',
      clock: manualClock(),
      log: silentLog,
      budget: { maxRows: 10, evictTo: 1 },
    });
    for (let i = 0; i < 10; i++) outbox.enqueueVitals([reading(i * 60)]);
    const inFlight = outbox.take(4);
    for (let i = 10; i < 20; i++) outbox.enqueueVitals([reading(i * 60)]);
    outbox.release();
    const ids = outbox.take(100).map((e) => e.id);
    for (const e of inFlight) assert.ok(ids.includes(e.id), `in-flight message ${e.id} was evicted`);
    outbox.close();
  });

  it('reports nearly full at the configured fill, from bytes as well as rows', () => {
    const outbox = Outbox.open({
      path: tempDb(),
      gatewayId: 'gw-bed-01',
      clock: manualClock(),
      log: silentLog,
      budget: { maxBytes: 20_000 },
    });
    while (outbox.stats().fill < 0.8) {
      assert.equal(outbox.stats().nearlyFull, false);
      outbox.enqueueVitals([reading(outbox.stats().rows * 60)]);
    }
    assert.equal(outbox.stats().nearlyFull, true);
    outbox.close();
  });

  it('survives over the budget across a restart: the counters persist', () => {
    const path = tempDb();
    const first = Outbox.open({ path, gatewayId: 'gw-bed-01', clock: manualClock(), log: silentLog, budget: { maxRows: 5, evictTo: 1 } });
    for (let i = 0; i < 8; i++) first.enqueueVitals([reading(i * 60)]);
    first.close();
    const second = Outbox.open({ path, gatewayId: 'gw-bed-01', clock: manualClock(), log: silentLog, budget: { maxRows: 5, evictTo: 1 } });
    assert.equal(second.stats().evictedBy.vitalsDropped, 3);
    assert.equal(second.stats().rows, 5);
    second.close();
  });
});

describe('outbox on a full disk', () => {
  it('frees space by evicting vitals so alarm events still get stored; reports when nothing is left to evict', () => {
    // max_page_count caps the file the way a full disk would (SQLITE_FULL).
    const outbox = Outbox.open({ path: tempDb(), gatewayId: 'gw-bed-01', clock: manualClock(), log: silentLog, maxPageCount: 40 });
    for (let i = 0; i < 500 && outbox.stats().evictedBy.vitalsDropped === 0; i++) {
      outbox.enqueueVitals(Array.from({ length: 20 }, (_, j) => reading((i * 20 + j) * 60)));
    }
    assert.ok(outbox.stats().evictedBy.vitalsDropped > 0, 'the disk filled up and the oldest vitals made room');
    assert.equal(outbox.stats().diskFull, false);
    outbox.enqueueAlarms(Array.from({ length: 20 }, (_, i) => alarmEvent(i)));
    const { alarms } = drainAll(outbox);
    assert.equal(alarms.length, 20);
    // Everything is now in flight, so nothing may be evicted: the enqueue fails cleanly and says why.
    assert.throws(() => {
      for (let i = 0; i < 500; i++) {
        outbox.enqueueAlarms(Array.from({ length: 50 }, (_, j) => alarmEvent(i * 50 + j)));
        outbox.take(100);
      }
    }, OutboxStorageError);
    assert.equal(outbox.stats().diskFull, true);
    outbox.release();
    assert.equal(drainAll(outbox).alarms.length >= 20, true, 'what was stored is still there');
    outbox.close();
  });
});
