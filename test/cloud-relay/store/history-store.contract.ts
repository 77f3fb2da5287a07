/**
 * The one contract every HistoryStore passes (the MQTT.js abstract_store
 * pattern): each implementation's *.test.ts calls historyStoreContract with a
 * factory, and the same tests run against SQLite, InfluxDB and VictoriaMetrics.
 *
 * Tests share one store per suite and keep out of each other's way with their
 * own gateway and patient ids, so a server-backed store needs no reset.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  type HistoryStore,
  HistoryStoreError,
  type ReadingQuery,
  type StoredAlarmEvent,
  type StoredReading,
} from '../../../cloud-relay/store/history-store.ts';

export interface HistoryStoreContractOptions {
  /** A new store on the same backend; the suite closes what it creates. */
  create: () => Promise<HistoryStore>;
  /**
   * False for a backend that keeps numbers only (VictoriaMetrics stores a
   * string field as 0): the checks then compare what such a backend can hold
   * (tags, numbers, timestamps). InfluxDB and SQLite keep everything.
   */
  stringFields?: boolean;
}

/**
 * Recent timestamps: VictoriaMetrics drops points outside its retention
 * (one month by default). Whole seconds keep the ids readable in failures.
 */
const BASE_T = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

function uniqueIds(label: string): { gatewayId: string; otherGatewayId: string; patientId: string; otherPatientId: string } {
  const suffix = randomBytes(4).toString('hex');
  return {
    gatewayId: `gw-${label}-${suffix}`,
    otherGatewayId: `gw-${label}-${suffix}-b`,
    patientId: `P-${label}-${suffix}`,
    otherPatientId: `P-${label}-${suffix}.other`,
  };
}

function reading(gatewayId: string, patientId: string, t: number, overrides: Partial<StoredReading> = {}): StoredReading {
  return { gatewayId, patientId, t, clockQuality: 'synced', hr: 72, spo2: 97, pi: 2.1, sqi: 0.93, ...overrides };
}

function alarmEvent(gatewayId: string, patientId: string, t: number, overrides: Partial<StoredAlarmEvent> = {}): StoredAlarmEvent {
  return {
    gatewayId,
    patientId,
    t,
    mono: 120_000 + (t - BASE_T),
    alarmId: 'alarm-0000000001',
    rule: 'spo2-low',
    event: 'raised',
    kind: 'physiological',
    priority: 'high',
    value: 84,
    limit: 90,
    unit: '%',
    message: 'SpO2 84 % below 90 %',
    ...overrides,
  };
}

function window(patientId: string, fromMs = BASE_T - 60_000, toMs = BASE_T + 3_600_000): ReadingQuery {
  return { patientId, fromMs, toMs };
}

export function historyStoreContract(name: string, options: HistoryStoreContractOptions): void {
  const stringFields = options.stringFields ?? true;

  /** What a numbers-only backend can give back of a reading. */
  const comparableReading = (r: StoredReading): Partial<StoredReading> => {
    if (stringFields) return r;
    const { clockQuality: _clockQuality, ...rest } = r;
    return rest;
  };
  const comparableEvent = (e: StoredAlarmEvent): Partial<StoredAlarmEvent> => {
    if (stringFields) return e;
    const { gatewayId, patientId, t, rule, event, mono, value, limit } = e;
    return { gatewayId, patientId, t, rule, event, mono, value, limit };
  };
  const assertReadings = (actual: StoredReading[], expected: StoredReading[]) =>
    assert.deepEqual(actual.map(comparableReading), expected.map(comparableReading));
  const assertEvents = (actual: StoredAlarmEvent[], expected: StoredAlarmEvent[]) =>
    assert.deepEqual(actual.map(comparableEvent), expected.map(comparableEvent));

  describe(`HistoryStore contract: ${name}`, () => {
    let store: HistoryStore;
    before(async () => {
      store = await options.create();
    });
    after(async () => {
      await store?.close();
    });

    it('accepts writes once open', async () => {
      assert.equal(await store.ping(), true);
    });

    it('reads back every field of a reading, nulls included, oldest first', async () => {
      const { gatewayId, patientId } = uniqueIds('fields');
      const written = [
        reading(gatewayId, patientId, BASE_T + 2000, { hr: null, spo2: null, pi: null, sqi: 0.12, clockQuality: 'unsynced' }),
        reading(gatewayId, patientId, BASE_T, { hr: 61.5, spo2: 98.25, pi: 0.37, sqi: 1 }),
        reading(gatewayId, patientId, BASE_T + 1000, { hr: 300, spo2: 0, pi: 100, sqi: 0 }),
      ];
      await store.writeReadings(written);
      const stored = await store.queryReadings(window(patientId));
      assertReadings(stored, [written[1]!, written[2]!, written[0]!]);
    });

    it('keeps one point when the same (gatewayId, t) is written again: a replay is harmless', async () => {
      const { gatewayId, patientId } = uniqueIds('replay');
      const batch = [reading(gatewayId, patientId, BASE_T), reading(gatewayId, patientId, BASE_T + 1000, { hr: 80 })];
      await store.writeReadings(batch);
      await store.writeReadings(batch);
      await store.writeReadings([batch[1]!, batch[1]!]);
      assertReadings(await store.queryReadings(window(patientId)), batch);
    });

    it('keeps readings of two gateways at the same instant apart, merged in time order', async () => {
      const { gatewayId, otherGatewayId, patientId } = uniqueIds('twogw');
      await store.writeReadings([reading(gatewayId, patientId, BASE_T, { hr: 70 }), reading(gatewayId, patientId, BASE_T + 2000)]);
      await store.writeReadings([reading(otherGatewayId, patientId, BASE_T + 1000, { hr: 71 })]);
      await store.writeReadings([reading(otherGatewayId, patientId, BASE_T, { hr: 90 })]);
      const stored = await store.queryReadings(window(patientId));
      assert.deepEqual(
        stored.map((r) => r.t),
        [BASE_T, BASE_T, BASE_T + 1000, BASE_T + 2000],
      );
      assert.deepEqual(
        stored
          .filter((r) => r.t === BASE_T)
          .map((r) => [r.gatewayId, r.hr])
          .sort(),
        [
          [gatewayId, 70],
          [otherGatewayId, 90],
        ],
      );
    });

    it('returns only the patient asked for', async () => {
      const { gatewayId, otherGatewayId, patientId, otherPatientId } = uniqueIds('patient');
      await store.writeReadings([reading(gatewayId, patientId, BASE_T), reading(otherGatewayId, otherPatientId, BASE_T + 1000)]);
      await store.writeAlarmEvents([alarmEvent(otherGatewayId, otherPatientId, BASE_T)]);
      assert.deepEqual(
        (await store.queryReadings(window(patientId))).map((r) => r.patientId),
        [patientId],
      );
      assert.deepEqual(await store.queryAlarmEvents(window(patientId)), []);
      assert.deepEqual(await store.queryReadings(window('P-nobody-at-all')), []);
    });

    it('treats the window as fromMs <= t < toMs', async () => {
      const { gatewayId, patientId } = uniqueIds('window');
      await store.writeReadings([0, 1000, 2000, 3000].map((dt) => reading(gatewayId, patientId, BASE_T + dt)));
      const stored = await store.queryReadings(window(patientId, BASE_T + 1000, BASE_T + 3000));
      assert.deepEqual(
        stored.map((r) => r.t),
        [BASE_T + 1000, BASE_T + 2000],
      );
    });

    it('applies the limit to the oldest points', async () => {
      const { gatewayId, patientId } = uniqueIds('limit');
      await store.writeReadings([4, 3, 2, 1, 0].map((s) => reading(gatewayId, patientId, BASE_T + s * 1000)));
      const stored = await store.queryReadings({ ...window(patientId), limit: 2 });
      assert.deepEqual(
        stored.map((r) => r.t),
        [BASE_T, BASE_T + 1000],
      );
    });

    it('stores a large batch in one call, nothing lost', async () => {
      const { gatewayId, patientId } = uniqueIds('bulk');
      const count = 3000;
      const batch = Array.from({ length: count }, (_, i) => reading(gatewayId, patientId, BASE_T + i * 1000, { hr: 40 + (i % 150) }));
      await store.writeReadings(batch);
      const stored = await store.queryReadings({ ...window(patientId, BASE_T, BASE_T + count * 1000), limit: count + 10 });
      assert.equal(stored.length, count);
      assertReadings(stored, batch);
    });

    it('treats an empty write as a no-op', async () => {
      await store.writeReadings([]);
      await store.writeAlarmEvents([]);
    });

    it('reads back alarm events, optional fields absent or present', async () => {
      const { gatewayId, patientId } = uniqueIds('alarms');
      const raised = alarmEvent(gatewayId, patientId, BASE_T);
      const escalated = alarmEvent(gatewayId, patientId, BASE_T + 500, { event: 'escalated', value: 79.5 });
      const technical = alarmEvent(gatewayId, patientId, BASE_T + 1000, {
        alarmId: 'alarm-0000000002',
        rule: 'sensor-off',
        kind: 'technical',
        priority: 'low',
        message: 'sensor off the finger',
      });
      delete technical.value;
      delete technical.limit;
      delete technical.unit;
      const cleared = alarmEvent(gatewayId, patientId, BASE_T + 2000, { event: 'cleared', priority: 'medium', value: null });
      await store.writeAlarmEvents([cleared, raised]);
      await store.writeAlarmEvents([technical, escalated]);
      const { value: _null, ...clearedAsStored } = cleared;
      assertEvents(await store.queryAlarmEvents(window(patientId)), [raised, escalated, technical, clearedAsStored]);
    });

    it('keeps one alarm event per (gatewayId, rule, event, t) on replay', async () => {
      const { gatewayId, patientId } = uniqueIds('alarmreplay');
      const events = [alarmEvent(gatewayId, patientId, BASE_T), alarmEvent(gatewayId, patientId, BASE_T, { event: 'escalated' })];
      await store.writeAlarmEvents(events);
      await store.writeAlarmEvents(events);
      // Two events at the same instant have no defined order between them.
      const stored = (await store.queryAlarmEvents(window(patientId))).sort((a, b) => b.event.localeCompare(a.event));
      assertEvents(stored, events);
    });

    if (stringFields) {
      it('keeps awkward text intact', async () => {
        const { gatewayId, patientId } = uniqueIds('text');
        const message = 'line one\nline two, quote " backslash \\ comma, equals= space  tab\t ünïcødé 🫀 \\" end\\';
        const event = alarmEvent(gatewayId, patientId, BASE_T, { message, unit: 'a b,c=d"\\' });
        await store.writeAlarmEvents([event]);
        assert.deepEqual(await store.queryAlarmEvents(window(patientId)), [event]);
      });
    }

    it('applies window and limit to alarm events too', async () => {
      const { gatewayId, patientId } = uniqueIds('alarmwindow');
      await store.writeAlarmEvents([0, 1000, 2000, 3000].map((dt) => alarmEvent(gatewayId, patientId, BASE_T + dt)));
      const stored = await store.queryAlarmEvents({ ...window(patientId, BASE_T + 1000, BASE_T + 4000), limit: 2 });
      assert.deepEqual(
        stored.map((e) => e.t),
        [BASE_T + 1000, BASE_T + 2000],
      );
    });

    it('refuses work once closed, with a HistoryStoreError', async () => {
      const own = await options.create();
      await own.close();
      assert.equal(await own.ping(), false);
      const { gatewayId, patientId } = uniqueIds('closed');
      await assert.rejects(own.writeReadings([reading(gatewayId, patientId, BASE_T)]), HistoryStoreError);
      await assert.rejects(own.queryReadings(window(patientId)), HistoryStoreError);
      await own.close();
    });
  });
}
