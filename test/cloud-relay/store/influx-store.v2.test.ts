/**
 * The InfluxDB store's v2 write path (`/api/v2/write` through
 * @influxdata/influxdb-client) against a real server that serves it:
 * VictoriaMetrics, started here. Reads go through VictoriaMetrics' own export
 * API, which keeps numbers only, so the contract runs with stringFields off;
 * text round trips are covered by the InfluxDB 1.6.7 run.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HistoryStoreError } from '../../../cloud-relay/store/history-store.ts';
import { InfluxHistoryStore } from '../../../cloud-relay/store/influx-store.ts';
import { startVictoriaMetrics, VictoriaMetricsReader, type VictoriaMetricsServer } from '../../helpers/victoria-metrics.ts';
import { historyStoreContract } from './history-store.contract.ts';

let vm: VictoriaMetricsServer;
before(async () => {
  vm = await startVictoriaMetrics();
});
after(async () => {
  await vm?.close();
});

const v2Store = () => new InfluxHistoryStore({ url: vm.url, database: 'vigil', writeApi: 'v2', reader: new VictoriaMetricsReader(vm) });

historyStoreContract('v2 /api/v2/write path on VictoriaMetrics', { create: async () => v2Store(), stringFields: false });

describe('InfluxHistoryStore v2 write path', () => {
  it('sends through /api/v2/write when configured so', async () => {
    const store = v2Store();
    const t = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    await store.writeReadings([
      { gatewayId: 'gw-v2-path', patientId: 'P-v2-path', t, clockQuality: 'synced', hr: 64, spo2: 99, pi: 3, sqi: 0.97 },
    ]);
    assert.equal(store.writeApi, 'v2');
    await vm.forceFlush();
    const series = await vm.exportSeries('{__name__="reading_hr",gateway_id="gw-v2-path"}', t - 1000, t + 1000);
    assert.deepEqual(
      series.map((s) => [s.metric.patient_id, s.values, s.timestamps]),
      [['P-v2-path', [64], [t]]],
    );
    await store.close();
  });

  it('chooses /api/v2/write on its own when /ping announces InfluxDB 2.x, and asks for an org when none is configured', async () => {
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`);
      request.resume();
      request.on('end', () => response.writeHead(204, { 'X-Influxdb-Version': 'v2.7.11' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const reading = {
      gatewayId: 'gw-v2-auto',
      patientId: 'P-v2-auto',
      t: Date.UTC(2026, 0, 1),
      clockQuality: 'synced',
      hr: 64,
      spo2: 99,
      pi: 3,
      sqi: 0.97,
    } as const;

    const withoutOrg = new InfluxHistoryStore({ url, database: 'vigil', token: 'tok' });
    await assert.rejects(
      withoutOrg.writeReadings([reading]),
      (error: unknown) => error instanceof HistoryStoreError && !error.retryable && /influxdb\.org/.test(error.message),
    );
    const store = new InfluxHistoryStore({ url, database: 'vigil', token: 'tok', org: 'ward' });
    await store.writeReadings([reading]);
    assert.equal(store.writeApi, 'v2');
    assert.deepEqual(requests.slice(-2), ['GET /ping ', 'POST /api/v2/write?org=ward&bucket=vigil&precision=ms Token tok']);
    await store.close();
    await withoutOrg.close();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const [status, retryable] of [
    [503, true],
    [429, true],
    [400, false],
    [401, false],
  ] as const) {
    it(`sends one request and no retry when the server answers ${status}, reporting retryable=${retryable}`, async () => {
      // A bare HTTP server shows what reaches the wire: the client's own retries must stay off.
      const requests: string[] = [];
      const server = createServer((request, response) => {
        requests.push(`${request.method} ${request.url}`);
        request.resume();
        request.on('end', () => response.writeHead(status, { 'content-type': 'application/json' }).end('{"code":"x","message":"no"}'));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const store = new InfluxHistoryStore({ url: `http://127.0.0.1:${port}`, database: 'vigil', writeApi: 'v2', org: 'ward' });
      const t = Date.UTC(2026, 0, 1);
      await assert.rejects(
        store.writeReadings([{ gatewayId: 'gw-v2-x', patientId: 'P-v2-x', t, clockQuality: 'synced', hr: 64, spo2: 99, pi: 3, sqi: 0.97 }]),
        (error: unknown) => error instanceof HistoryStoreError && error.retryable === retryable && error.message.includes(String(status)),
      );
      assert.deepEqual(requests, ['POST /api/v2/write?org=ward&bucket=vigil&precision=ms']);
      await store.close();
      await new Promise((resolve) => server.close(resolve));
    });
  }
});
