/**
 * The relay goes away while the gateway keeps measuring, then comes back:
 * the backlog arrives, alarm events first, every message accepted once after
 * dedupe; then a broker-side cut in the middle of the replay.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startUplink } from '../../../gateway/uplink/index.ts';
import { alarmEvent, reading } from '../../gateway/outbox/samples.ts';
import { until } from '../../gateway/uplink/test-broker.ts';
import { enrolledGateway, startTestRelay } from './support.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('relay outage', () => {
  it('the relay stopped while the gateway measures: every message arrives once after dedupe, alarm events first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-outage-'));
    dirs.push(dir);
    const relay = await startTestRelay(join(dir, 'relay'));
    const gatewayId = 'gw-outage-01';
    const { keyDir, audience, clock, outbox } = await enrolledGateway(relay, dir, gatewayId, 'p-outage-01');
    let connected = false;
    const uplink = startUplink({
      gatewayId,
      mqttUrl: relay.mqttUrl,
      audience,
      keyDir,
      outbox,
      clock,
      backoff: { baseMs: 50, capMs: 500 },
      onConnectionChange: (c) => {
        connected = c;
      },
    });
    const base = Date.now() - 2 * 3600_000;
    const at = (i: number) => reading(i, { t: base + i * 1000 });
    try {
      let i = 0;
      for (; i < 30; i++) outbox.enqueueVitals([at(i)]);
      await until(() => outbox.stats().rows === 0, 'live data delivered');

      await relay.stop();
      await until(() => !connected, 'outage noticed');
      // Twenty minutes of 1 Hz measurement while the relay is down, emulated by enqueueing fast.
      let alarms = 0;
      for (; i < 1_230; i++) {
        outbox.enqueueVitals([at(i)]);
        if (i % 100 === 0) {
          outbox.enqueueAlarms([alarmEvent(i, { t: base + i * 1000 })]);
          alarms += 1;
        }
      }
      assert.equal(outbox.stats().rows, 1_200 + alarms, 'all of it kept while the relay is away');
      assert.equal(uplink.connected(), false);

      const acceptedBefore = await relay.outcomes('vitals');
      await relay.start();
      // Record the order in which the restarted relay's ingest sees the replay.
      const ingest = relay.relay.parts.ingest;
      const acceptBatch = ingest.acceptBatch.bind(ingest);
      const order: string[] = [];
      ingest.acceptBatch = (items) => {
        for (const item of items) if (item.kind === 'vitals' || item.kind === 'alarms') order.push(item.kind);
        return acceptBatch(items);
      };
      await until(() => outbox.stats().rows === 0, 'backlog delivered', 60_000);
      const firstAfter = order.slice(0, alarms);
      assert.deepEqual(firstAfter, Array(alarms).fill('alarms'), 'alarm events first');
      const vitals = await relay.outcomes('vitals');
      assert.equal(acceptedBefore.accepted, 30);
      assert.equal(vitals.accepted, 1_230, 'every vitals message accepted once');
      assert.equal((await relay.outcomes('alarms')).accepted, alarms);
      await until(() => relay.store.readings.size === 1_230, 'history store has every reading');
      assert.equal(uplink.stats().lastError !== null, true, 'the outage was seen by the uplink');
    } finally {
      await uplink.close();
      outbox.close();
      await relay.stop();
    }
  });
});
