/** Token expiry, revocation, and the relay's defences against bad connections. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { topicFor } from '../../../protocol/topics.ts';
import { selfSignedCert } from '../../helpers/tls.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { patient } from '../support/gateway-identity.ts';
import { reading, vitals } from '../support/messages.ts';
import { connectPacket, isConnack, RawMqttClient } from '../support/raw-mqtt.ts';
import { eventually, type Harness, startHarness } from '../support/relay-harness.ts';

async function rejects(h: Harness, reason: string): Promise<number> {
  const metric = await h.relay.parts.metrics.rejects.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('device token lifetime', () => {
  let h: Harness;
  const clock = new FakeClock();

  before(async () => {
    h = await startHarness({ clock });
  });
  after(() => h.stop());

  test('the connection is closed when the token expires', async () => {
    const gw = await h.enroll('gw-exp-01', patient(1));
    const client = await h.connect(gw, { tokenNowMs: clock.now(), lifetimeS: 60 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    clock.advance(59_000);
    assert.equal(client.connected, true, 'still connected before exp');
    clock.advance(2_000);
    await closed;
    assert.equal(await rejects(h, 'auth-expired'), 1);
  });

  test('an expired token is refused at CONNECT', async () => {
    const gw = await h.enroll('gw-exp-02', patient(2));
    const stale = await gw.token({ nowMs: clock.now() - 3600_000, lifetimeS: 600 });
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write(connectPacket('gw-exp-02', stale));
    assert.equal((await client.waitPacket(isConnack)).returnCode, 4);
    await client.waitClosed();
  });

  test('a token living longer than an hour, or for another audience, is refused', async () => {
    const gw = await h.enroll('gw-exp-03', patient(3));
    for (const password of [
      await gw.token({ nowMs: clock.now(), lifetimeS: 7200 }),
      await gw.token({ nowMs: clock.now(), audience: 'someone-else' }),
    ]) {
      const client = await RawMqttClient.connect(h.relay.mqttUrl);
      await client.write(connectPacket('gw-exp-03', password));
      assert.equal((await client.waitPacket(isConnack)).returnCode, 4);
      await client.waitClosed();
    }
  });
});

describe('revocation', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  test('revoking a gateway disconnects it at once and refuses it afterwards', async () => {
    const gw = await h.enroll('gw-rev-01', patient(1));
    const client = await h.connect(gw);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const response = await fetch(`${h.relay.httpUrl}/api/v1/admin/gateways/gw-rev-01/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.relay.adminToken}` },
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { state: string }).state, 'revoked');
    await closed;
    const again = await RawMqttClient.connect(h.relay.mqttUrl);
    await again.write(connectPacket('gw-rev-01', await gw.token()));
    assert.equal((await again.waitPacket(isConnack)).returnCode, 5);
    await again.waitClosed();
  });

  test('an unknown gateway is refused with "not authorized"', async () => {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write(connectPacket('gw-nobody', 'x.y.z'));
    assert.equal((await client.waitPacket(isConnack)).returnCode, 5);
    await client.waitClosed();
  });
});

describe('bad connections never crash the relay', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ limits: { connectTimeoutMs: 150, maxPacketBytes: 8 * 1024, connectionsPerWindow: 1000 } });
  });
  after(() => h.stop());

  async function healthy() {
    const response = await fetch(`${h.relay.httpUrl}/healthz`);
    assert.equal(response.status, 200);
  }

  test('garbage bytes close the connection and are counted', async () => {
    const before = await rejects(h, 'bad-packet');
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.writeBytes(Buffer.from([0x00, 0x02, 0xff, 0xff]));
    await client.waitClosed();
    assert.ok((await rejects(h, 'bad-packet')) > before);
    await healthy();
  });

  test('a Remaining Length longer than four bytes is a bad packet', async () => {
    const before = await rejects(h, 'bad-packet');
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.writeBytes(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await client.waitClosed();
    assert.ok((await rejects(h, 'bad-packet')) > before);
    await healthy();
  });

  test('a packet announcing more than the size limit is refused from its header alone', async () => {
    const gw = await h.enroll('gw-big-01', patient(1));
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write(connectPacket('gw-big-01', await gw.token()));
    assert.equal((await client.waitPacket(isConnack)).returnCode, 0);
    // PUBLISH QoS 1 header announcing 200 MB; only the header is sent.
    await client.writeBytes(Buffer.from([0x32, 0x80, 0x80, 0x80, 0x60]));
    await client.waitClosed();
    assert.equal(await rejects(h, 'packet-too-large'), 1);
    await healthy();
  });

  test('a connection that never sends CONNECT is closed', async () => {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.waitClosed();
    assert.ok((await rejects(h, 'connect-timeout')) >= 1);
  });

  test('a PUBLISH before CONNECT closes the connection', async () => {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write({
      cmd: 'publish',
      topic: 'vigil/v1/gw/gw-big-01/vitals',
      payload: Buffer.from('{}'),
      qos: 0,
      retain: false,
      dup: false,
    });
    await client.waitClosed();
    assert.equal(client.packets.length, 0);
    await healthy();
  });
});

describe('connection rate limit', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ limits: { connectionsPerWindow: 3, connectionWindowMs: 60_000 } });
  });
  after(() => h.stop());

  test('connections over the per-address limit are closed at once and counted', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => RawMqttClient.connect(h.relay.mqttUrl)));
    await eventually(() => clients.filter((c) => c.closed).length >= 2);
    assert.equal(clients.filter((c) => c.closed).length, 2);
    assert.equal(await rejects(h, 'connection-rate'), 2);
    for (const c of clients) c.close();
  });
});

describe('TLS and WebSocket transports', () => {
  let h: Harness;
  let certDir: string;
  let cert: Buffer;
  const t0 = Date.UTC(2026, 0, 15, 8);

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'vigil-cert-'));
    selfSignedCert(certDir, 'relay');
    cert = readFileSync(join(certDir, 'relay.pem'));
    h = await startHarness({
      mqttTlsPort: 0,
      mqttWsPort: 0,
      tls: { certFile: join(certDir, 'relay.pem'), keyFile: join(certDir, 'relay.key') },
    });
  });
  after(async () => {
    await h.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  for (const transport of ['tls', 'ws'] as const) {
    test(`a gateway connects and publishes over ${transport}`, async () => {
      const gatewayId = `gw-${transport}-01`;
      const gw = await h.enroll(gatewayId, patient(transport));
      const url = transport === 'tls' ? h.relay.mqttTlsUrl! : h.relay.mqttWsUrl!;
      const client = mqtt.connect(url, {
        clientId: gatewayId,
        username: gatewayId,
        password: await gw.token(),
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...(transport === 'tls' ? { ca: cert } : {}),
      });
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      await client.publishAsync(topicFor(gatewayId, 'vitals'), vitals(gatewayId, 1, [reading(t0)]), { qos: 1 });
      await eventually(() => [...h.store.readings.values()].some((r) => r.gatewayId === gatewayId));
      await client.endAsync();
    });
  }

  test('with tls.http the API, the dashboard and /live are served over HTTPS only', async () => {
    const secure = await startHarness({ tls: { certFile: join(certDir, 'relay.pem'), keyFile: join(certDir, 'relay.key'), http: true } });
    try {
      assert.match(secure.relay.httpUrl, /^https:\/\//);
      const status = await new Promise<number>((resolve, reject) =>
        https
          .get(`${secure.relay.httpUrl}/healthz`, { ca: cert }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject),
      );
      assert.equal(status, 200);
      const viewerToken = secure.relay.parts.registry.createViewer('ward', ['*']).viewerToken;
      const ws = new WebSocket(`${secure.relay.httpUrl.replace('https', 'wss')}/live?token=${viewerToken}`, { ca: cert });
      const first = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data) => resolve(JSON.parse(data.toString()).type));
        ws.once('error', reject);
      });
      assert.equal(first, 'snapshot');
      ws.close();
      await assert.rejects(fetch(`${secure.relay.httpUrl.replace('https', 'http')}/healthz`), 'no plain HTTP on that port');
    } finally {
      await secure.stop();
    }
  });

  test('a refused TLS handshake does not disturb the broker', async () => {
    const client = mqtt.connect(h.relay.mqttTlsUrl!, { reconnectPeriod: 0, rejectUnauthorized: true, connectTimeout: 2000 });
    await new Promise<void>((resolve) => {
      client.once('error', () => resolve());
      client.once('close', () => resolve());
    });
    client.end(true);
    assert.equal((await fetch(`${h.relay.httpUrl}/healthz`)).status, 200);
  });
});
