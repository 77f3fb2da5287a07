import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { type Relay, startRelay } from '../../../cloud-relay/relay.ts';
import { systemClock } from '../../../gateway/clock/index.ts';
import { Outbox } from '../../../gateway/outbox/index.ts';
import { loadOrCreateDeviceKey, startUplink } from '../../../gateway/uplink/index.ts';
import { MemoryHistoryStore } from '../../cloud-relay/support/memory-store.ts';
import { selfSignedCert } from '../../helpers/tls.ts';
import { reading, silentLog } from '../outbox/samples.ts';
import { until } from './test-broker.ts';

describe('uplink over mqtts with a pinned CA', () => {
  let dir: string;
  let relay: Relay;
  let keyDir: string;
  let relayCert: string;
  let otherCert: string;
  const gatewayId = 'gw-tls-01';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-uplink-tls-'));
    const server = selfSignedCert(dir, 'relay');
    relayCert = readFileSync(server.cert, 'utf8');
    otherCert = readFileSync(selfSignedCert(dir, 'other').cert, 'utf8');
    relay = await startRelay({
      dataDir: join(dir, 'relay'),
      host: '127.0.0.1',
      mqttPort: 0,
      mqttTlsPort: 0,
      httpPort: 0,
      tls: { certFile: server.cert, keyFile: server.key },
      store: new MemoryHistoryStore(),
      log: pino({ level: 'silent' }),
      dashboardDir: false,
      adminToken: 'admin-token-for-tls-tests-0123456789',
    });
    keyDir = join(dir, 'gw');
    const key = await loadOrCreateDeviceKey(keyDir);
    const created = relay.parts.registry.createEnrollment(gatewayId, { patientId: 'p-tls', displayName: 'TLS', bed: '3' });
    await relay.parts.registry.enroll(created.enrollmentToken, gatewayId, key.publicJwk as never);
  });
  after(async () => {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function run(ca: string, name: string) {
    const clock = systemClock({ assumeSynced: true });
    const outbox = Outbox.open({ path: join(dir, `${name}.db`), gatewayId, clock, log: silentLog });
    outbox.enqueueVitals([reading(0, { t: Date.now() - 60_000 })]);
    const uplink = startUplink({
      gatewayId,
      mqttUrl: relay.mqttTlsUrl as string,
      audience: 'vigil-relay',
      keyDir,
      outbox,
      clock,
      ca,
      backoff: { baseMs: 50, capMs: 200 },
    });
    return { outbox, uplink };
  }

  it('delivers when the relay presents a certificate from the pinned CA', async () => {
    const { outbox, uplink } = run(relayCert, 'good');
    try {
      await until(() => outbox.stats().rows === 0, 'delivered over TLS');
      assert.ok(uplink.stats().connects >= 1);
    } finally {
      await uplink.close();
      outbox.close();
    }
  });

  it('refuses a relay whose certificate is not from the pinned CA, and keeps the data', async () => {
    const { outbox, uplink } = run(otherCert, 'bad');
    try {
      await until(() => uplink.stats().failures >= 2, 'refused attempts');
      assert.equal(uplink.stats().connects, 0);
      assert.match(uplink.stats().lastError ?? '', /certificate|self.signed/i);
      assert.equal(outbox.stats().rows, 1);
    } finally {
      await uplink.close();
      outbox.close();
    }
  });
});
