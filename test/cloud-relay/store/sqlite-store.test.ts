import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HistoryStoreError } from '../../../cloud-relay/store/history-store.ts';
import { createHistoryStore } from '../../../cloud-relay/store/index.ts';
import { SqliteHistoryStore } from '../../../cloud-relay/store/sqlite-store.ts';
import { historyStoreContract } from './history-store.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
historyStoreContract('embedded SQLite', {
  create: async () => new SqliteHistoryStore({ path: join(dir, `contract-${files++}.sqlite`) }),
});

describe('SqliteHistoryStore', () => {
  const reading = {
    gatewayId: 'gw-durable',
    patientId: 'P-1',
    t: 1_763_000_000_000,
    clockQuality: 'synced',
    hr: 72,
    spo2: 97,
    pi: 2,
    sqi: 0.9,
  } as const;

  it('keeps what it acknowledged across a reopen of the file', async () => {
    const path = join(dir, 'nested', 'folder', 'reopen.sqlite');
    const first = new SqliteHistoryStore({ path });
    await first.writeReadings([reading]);
    await first.close();
    const second = new SqliteHistoryStore({ path });
    assert.deepEqual(await second.queryReadings({ patientId: 'P-1', fromMs: reading.t, toMs: reading.t + 1 }), [reading]);
    await second.close();
  });

  it('fails to open a file that is not a database with a clear HistoryStoreError', () => {
    const path = join(dir, 'not-a-db.sqlite');
    writeFileSync(path, 'this is not an SQLite file, it is long enough to have a header '.repeat(4));
    assert.throws(
      () => new SqliteHistoryStore({ path }),
      (error: unknown) => error instanceof HistoryStoreError && error.message.includes(path) && error.cause instanceof Error,
    );
  });

  it('is what createHistoryStore gives when no InfluxDB is configured', async () => {
    const store = await createHistoryStore({ sqlite: { path: join(dir, 'factory.sqlite') } });
    assert.ok(store instanceof SqliteHistoryStore);
    await store.writeReadings([reading]);
    assert.equal((await store.queryReadings({ patientId: 'P-1', fromMs: 0, toMs: reading.t + 1 })).length, 1);
    await store.close();
  });
});
