import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HistoryStoreError } from '../../../cloud-relay/store/history-store.ts';
import { createHistoryStore } from '../../../cloud-relay/store/index.ts';
import { InfluxHistoryStore } from '../../../cloud-relay/store/influx-store.ts';

async function refusal(config: unknown): Promise<string> {
  try {
    await createHistoryStore(config as Parameters<typeof createHistoryStore>[0]);
  } catch (error) {
    assert.ok(error instanceof HistoryStoreError);
    assert.equal(error.retryable, false);
    return error.message;
  }
  assert.fail('expected the configuration to be refused');
}

describe('history store configuration', () => {
  it('names the bad key instead of falling back to the embedded store', async () => {
    assert.match(await refusal({ influx: { url: 'http://x:8086', database: 'v' } }), /store: unknown key "influx"/);
    assert.match(await refusal({ influxdb: { url: 'influxdb:8086', database: 'v' } }), /store\.influxdb\.url: must match/);
    assert.match(await refusal({ influxdb: { url: 'http://x:8086' } }), /store\.influxdb: must have required property 'database'/);
    assert.match(await refusal({ influxdb: { url: 'http://x:8086', database: 'v', writeApi: 'v3' } }), /store\.influxdb\.writeApi/);
    assert.match(await refusal({ influxdb: { url: 'http://x:8086', database: 'v', timeoutMs: '10s' } }), /store\.influxdb\.timeoutMs/);
    assert.match(await refusal({ sqlite: { path: 'a.sqlite', synchronous: 'OFF' } }), /store\.sqlite\.synchronous/);
  });

  it('builds an InfluxDB store from a valid section without contacting the server', async () => {
    const store = await createHistoryStore({
      influxdb: { url: 'http://127.0.0.1:9/', database: 'vigil', writeApi: 'v2', token: 'secret-token', org: 'ward', timeoutMs: 500 },
    });
    assert.ok(store instanceof InfluxHistoryStore);
    assert.equal(store.writeApi, null);
    await store.close();
  });
});
