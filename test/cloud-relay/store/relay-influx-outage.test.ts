/**
 * The relay with InfluxDB as its history store, end to end: a gateway
 * publishes over MQTT while InfluxDB is stopped; the relay keeps
 * acknowledging (the spool holds the messages), and once InfluxDB is back the
 * spool drains into it with nothing lost and nothing doubled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { type Relay, startRelay } from '../../../cloud-relay/relay.ts';
import { InfluxHistoryStore } from '../../../cloud-relay/store/influx-store.ts';
import { type GatewayCounters, SimGateway } from '../../../scripts/fleet/sim-gateway.ts';
import { type InfluxDbServer, startInfluxDb } from '../../helpers/influxdb.ts';

let influx: InfluxDbServer;
let relay: Relay;
let dataDir: string;
before(async () => {
  influx = await startInfluxDb();
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-relay-influx-'));
  relay = await startRelay({
    dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    httpPort: 0,
    store: { influxdb: { url: influx.url, database: 'vigil_relay', timeoutMs: 1000 } },
    log: pino({ level: 'silent' }),
    dashboardDir: false,
    drain: { minBackoffMs: 50, maxBackoffMs: 400, shutdownDeadlineMs: 2000 },
  });
});
after(async () => {
  await relay?.close();
  await influx?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Polls until `check` holds; fails with `what` after a generous bound (load on a shared CI box varies). */
async function eventually(what: string, check: () => boolean | Promise<boolean>, boundMs = 30_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`still not true: ${what}`);
    await delay(25);
  }
}

it('keeps acknowledging while InfluxDB is down and drains the spool into it afterwards, nothing lost', async () => {
  const counters: GatewayCounters = { published: 0, acked: 0, failed: 0, reconnects: 0 };
  const gateway = new SimGateway('gw-outage-01', { patientId: 'P-outage', displayName: 'Outage Test', bed: '12' }, counters, () => {});
  await gateway.createKeys();
  await gateway.enroll(relay.httpUrl, relay.adminToken);
  await gateway.connect(relay.mqttUrl);
  const reader = new InfluxHistoryStore({ url: influx.url, database: 'vigil_relay' });
  const storedTs = async () =>
    (await reader.queryReadings({ patientId: 'P-outage', fromMs: 0, toMs: Date.now() + 60_000 })).map((r) => r.t);

  for (let i = 0; i < 5; i++) gateway.publishOne();
  await eventually('the first 5 messages stored in InfluxDB', async () => (await storedTs()).length === 5);

  await influx.stop();
  for (let i = 0; i < 10; i++) gateway.publishOne();
  await eventually('the relay acknowledged all 15 messages', () => counters.acked === 15);
  await eventually('the drainer saw the store fail', () => relay.parts.drainer.failuresInARow > 0);
  assert.ok(relay.parts.spool.depth() > 0, 'the spool holds what InfluxDB could not take');

  await influx.start();
  await eventually('the spool drained', () => relay.parts.spool.depth() === 0);
  const ts = await storedTs();
  assert.equal(ts.length, 15);
  assert.equal(new Set(ts).size, 15);
  assert.equal(counters.failed, 0);
  // The spool's writer thread did the draining; what it stored reached the relay's metrics.
  assert.ok(relay.parts.spool.threadDrain, 'drained on the spool thread');
  const delays = (await relay.parts.metrics.storeDelaySeconds.get()).values.find(
    (v) => v.metricName === 'vigil_relay_store_delay_seconds_count',
  );
  assert.equal(delays?.value, 15, 'every stored reading has its measured → stored delay recorded');
  const failures = (await relay.parts.metrics.storeWriteFailures.get()).values[0]?.value ?? 0;
  assert.ok(failures > 0, 'the failed writes during the outage were counted');
  await gateway.disconnect();
  await reader.close();
});
