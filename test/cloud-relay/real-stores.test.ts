/**
 * The relay end to end against real history stores: InfluxDB 1.6.7 (v1
 * /write, InfluxQL reads) and VictoriaMetrics (v2 /api/v2/write). A gateway
 * publishes over MQTT, including a duplicate and a sequence gap; the readings
 * come back through the relay's history API exactly once, and what is still
 * in the spool at shutdown reaches the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InfluxHistoryStore } from '../../cloud-relay/store/influx-store.ts';
import { topicFor } from '../../protocol/topics.ts';
import { type InfluxDbServer, startInfluxDb } from '../helpers/influxdb.ts';
import { startVictoriaMetrics, VictoriaMetricsReader, type VictoriaMetricsServer } from '../helpers/victoria-metrics.ts';
import { patient } from './support/gateway-identity.ts';
import { alarmEvent, alarms, reading, vitals } from './support/messages.ts';
import { eventually, type Harness, startHarness } from './support/relay-harness.ts';

const t0 = Math.floor(Date.now() / 1000) * 1000 - 3600_000;

interface Backend {
  name: string;
  start(): Promise<{ store: () => InfluxHistoryStore; flush: () => Promise<void>; close: () => Promise<void>; textFields: boolean }>;
}

const backends: Backend[] = [
  {
    name: 'InfluxDB 1.6.7 (v1 /write)',
    async start() {
      const server: InfluxDbServer = await startInfluxDb();
      return {
        store: () => new InfluxHistoryStore({ url: server.url, database: 'vigil_relay_e2e', timeoutMs: 5000 }),
        flush: async () => {},
        close: () => server.close(),
        textFields: true,
      };
    },
  },
  {
    name: 'VictoriaMetrics (v2 /api/v2/write)',
    async start() {
      const server: VictoriaMetricsServer = await startVictoriaMetrics();
      return {
        store: () =>
          new InfluxHistoryStore({
            url: server.url,
            database: 'vigil',
            writeApi: 'v2',
            reader: new VictoriaMetricsReader(server),
            timeoutMs: 5000,
          }),
        flush: () => server.forceFlush(),
        close: () => server.close(),
        textFields: false,
      };
    },
  },
];

for (const backend of backends) {
  describe(`relay with ${backend.name}`, () => {
    let server: Awaited<ReturnType<Backend['start']>>;
    let h: Harness;
    let viewerToken: string;
    const gatewayId = 'gw-real-01';

    before(async () => {
      server = await backend.start();
      h = await startHarness({ store: server.store() });
      viewerToken = h.relay.parts.registry.createViewer('e2e', ['patient-real']).viewerToken;
    });
    after(async () => {
      await h?.stop();
      await server?.close();
    });

    const history = async (what: 'readings' | 'alarms') => {
      await server.flush();
      const response = await fetch(`${h.relay.httpUrl}/api/v1/patients/patient-real/${what}?from=${t0 - 60_000}&to=${t0 + 600_000}`, {
        headers: { authorization: `Bearer ${viewerToken}` },
      });
      assert.equal(response.status, 200);
      return (await response.json()) as { readings?: Array<{ t: number; hr: number | null }>; events?: Array<{ rule: string; t: number }> };
    };

    test('readings and alarm events arrive once, with a duplicate and a gap on the way', async () => {
      const gw = await h.enroll(gatewayId, { ...patient('real'), patientId: 'patient-real' });
      const client = await h.connect(gw);
      const topic = topicFor(gatewayId, 'vitals');
      const first = vitals(gatewayId, 0, [reading(t0, 70), reading(t0 + 1000, 71)], 'real-store-msg-0');
      await client.publishAsync(topic, first, { qos: 1 });
      await client.publishAsync(topic, first, { qos: 1 });
      await client.publishAsync(topic, vitals(gatewayId, 3, [reading(t0 + 2000, null, null)]), { qos: 1 });
      await client.publishAsync(topicFor(gatewayId, 'alarms'), alarms(gatewayId, 0, [alarmEvent(t0 + 2000)]), { qos: 1 });
      await eventually(() => h.relay.parts.spool.depth() === 0, 30_000);
      await eventually(async () => (await history('readings')).readings?.length === 3, 30_000);
      const { readings } = await history('readings');
      assert.deepEqual(
        readings?.map((r) => [r.t - t0, r.hr]),
        [
          [0, 70],
          [1000, 71],
          [2000, null],
        ],
      );
      if (server.textFields) {
        const { events } = await history('alarms');
        assert.deepEqual(
          events?.map((e) => [e.rule, e.t - t0]),
          [['spo2-low', 2000]],
        );
      }
      const gaps = h.relay.parts.spool.gaps(gatewayId).find((g) => g.kind === 'vitals');
      assert.deepEqual(gaps?.missing, [[1, 2]]);
      await client.endAsync();
    });

    test('the spool drains into the store at shutdown', async () => {
      const gw = await h.enroll('gw-real-02', { ...patient('real'), patientId: 'patient-real' });
      const client = await h.connect(gw);
      // Stop the drainer so the next messages stay in the spool until close() drains them.
      await h.relay.parts.drainer.stop();
      await client.publishAsync(topicFor('gw-real-02', 'vitals'), vitals('gw-real-02', 0, [reading(t0 + 10_000, 90)]), { qos: 1 });
      assert.equal(h.relay.parts.spool.depth(), 1);
      await client.endAsync();
      const reader = server.store();
      await h.relay.close();
      await server.flush();
      const stored = await reader.queryReadings({ patientId: 'patient-real', fromMs: t0 + 10_000, toMs: t0 + 10_001 });
      assert.deepEqual(
        stored.map((r) => [r.gatewayId, r.hr]),
        [['gw-real-02', 90]],
      );
      await reader.close();
    });
  });
}
