/**
 * The InfluxDB store against a real InfluxDB 1.6.7 (Debian's influxd, started
 * here): the contract suite over the v1 `/write` path with InfluxQL reads, and
 * what only a server can show (outage and recovery, refused batches).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HistoryStoreError, type StoredReading } from '../../../cloud-relay/store/history-store.ts';
import { createHistoryStore } from '../../../cloud-relay/store/index.ts';
import { InfluxQlReader } from '../../../cloud-relay/store/influx/influxql.ts';
import { InfluxHistoryStore } from '../../../cloud-relay/store/influx-store.ts';
import { freePort, type InfluxDbServer, startInfluxDb } from '../../helpers/influxdb.ts';
import { historyStoreContract } from './history-store.contract.ts';

let influx: InfluxDbServer;
before(async () => {
  influx = await startInfluxDb();
});
after(async () => {
  await influx?.close();
});

historyStoreContract('InfluxDB 1.6.7, v1 /write path chosen from /ping, InfluxQL reads', {
  create: async () => new InfluxHistoryStore({ url: influx.url, database: 'vigil_contract' }),
});

const T0 = Date.UTC(2026, 0, 1);
const reading = (t: number, overrides: Partial<StoredReading> = {}): StoredReading => ({
  gatewayId: 'gw-influx',
  patientId: 'P-influx',
  t,
  clockQuality: 'synced',
  hr: 70,
  spo2: 96,
  pi: 1.5,
  sqi: 0.8,
  ...overrides,
});

describe('InfluxHistoryStore on InfluxDB 1.6.7', () => {
  it('chooses the v1 /write API from the 1.6.7 version header and creates its database', async () => {
    const store = new InfluxHistoryStore({ url: influx.url, database: 'vigil_fresh' });
    assert.equal(store.writeApi, null);
    assert.equal(await store.ping(), true);
    assert.equal(store.writeApi, 'v1');
    const databases = await influx.query('SHOW DATABASES');
    assert.ok(JSON.stringify(databases).includes('"vigil_fresh"'));
    await store.close();
  });

  it('fails writes while InfluxDB is down and stores the same batch once it is back, nothing lost', async () => {
    const store = new InfluxHistoryStore({ url: influx.url, database: 'vigil_outage', timeoutMs: 2000 });
    const before = [reading(T0), reading(T0 + 1000)];
    await store.writeReadings(before);

    await influx.stop();
    const during = [reading(T0 + 2000), reading(T0 + 3000, { hr: null })];
    assert.equal(await store.ping(), false);
    await assert.rejects(store.writeReadings(during), (error: unknown) => error instanceof HistoryStoreError && error.retryable);

    await influx.start();
    assert.equal(await store.ping(), true);
    await store.writeReadings(during); // what the relay's spool drainer does on its next attempt
    const stored = await store.queryReadings({ patientId: 'P-influx', fromMs: T0, toMs: T0 + 10_000 });
    assert.deepEqual(stored, [...before, ...during]);
    await store.close();
  });

  it('starts without InfluxDB reachable and reports each write as a retryable failure', async () => {
    const store = await createHistoryStore({
      influxdb: { url: `http://127.0.0.1:${await freePort()}`, database: 'vigil', timeoutMs: 1000 },
    });
    assert.ok(store instanceof InfluxHistoryStore);
    assert.equal(await store.ping(), false);
    await assert.rejects(store.writeReadings([reading(T0)]), (error: unknown) => error instanceof HistoryStoreError && error.retryable);
    await store.close();
  });

  it('marks a batch InfluxDB refuses for its content as not retryable', async () => {
    await influx.query('CREATE DATABASE "vigil_conflict"');
    // Someone else made hr a string field in this shard: a float hr can never be accepted.
    const response = await fetch(`${influx.url}/write?db=vigil_conflict&precision=ms`, {
      method: 'POST',
      body: `reading,gateway_id=gw-other,patient_id=P-other hr="high" ${T0}`,
    });
    assert.equal(response.status, 204);
    const store = new InfluxHistoryStore({ url: influx.url, database: 'vigil_conflict' });
    await assert.rejects(
      store.writeReadings([reading(T0 + 1000)]),
      (error: unknown) => error instanceof HistoryStoreError && !error.retryable && /400/.test(error.message),
    );
    await store.close();
  });

  it('skips and counts rows of the wrong shape instead of returning them', async () => {
    await influx.query('CREATE DATABASE "vigil_shape"');
    const body = [
      `reading,gateway_id=gw-a,patient_id=P-shape sqi=0.9,clock_quality="synced",hr=71 ${T0}`,
      `reading,gateway_id=gw-a,patient_id=P-shape sqi=0.9,clock_quality="sometimes",hr=72 ${T0 + 1000}`,
      `reading,gateway_id=gw-a,patient_id=P-shape clock_quality="synced",hr=73 ${T0 + 2000}`,
    ].join('\n');
    const response = await fetch(`${influx.url}/write?db=vigil_shape&precision=ms`, { method: 'POST', body });
    assert.equal(response.status, 204);
    const reader = new InfluxQlReader({ url: influx.url, database: 'vigil_shape', timeoutMs: 5000 });
    const store = new InfluxHistoryStore({ url: influx.url, database: 'vigil_shape', reader });
    const stored = await store.queryReadings({ patientId: 'P-shape', fromMs: T0, toMs: T0 + 10_000 });
    assert.deepEqual(
      stored.map((r) => r.hr),
      [71],
    );
    assert.equal(reader.malformedRows, 2);
    await store.close();
  });

  it('refuses a record that cannot be written as line protocol, without sending any of the batch', async () => {
    const store = new InfluxHistoryStore({ url: influx.url, database: 'vigil_refuse' });
    await assert.rejects(
      store.writeReadings([reading(T0), reading(T0 + 1000, { hr: Number.NaN })]),
      (error: unknown) => error instanceof HistoryStoreError && !error.retryable,
    );
    assert.deepEqual(await store.queryReadings({ patientId: 'P-influx', fromMs: T0, toMs: T0 + 10_000 }), []);
    await store.close();
  });
});
