/**
 * aedes 1.2 may handle a PUBLISH or SUBSCRIBE that arrives in a later socket
 * read than CONNECT before `authenticate` has finished, with `client.id`
 * still null (review of moscajs/aedes PR #1119). The relay's authorize hooks
 * must refuse every client `authenticate` did not explicitly accept.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'aedes';
import { topicFor } from '../../../protocol/topics.ts';
import { patient } from '../support/gateway-identity.ts';
import { reading, vitals } from '../support/messages.ts';
import { connectPacket, isConnack, isPuback, isSuback, RawMqttClient } from '../support/raw-mqtt.ts';
import { eventually, type Harness, startHarness } from '../support/relay-harness.ts';

async function rejects(h: Harness, reason: string): Promise<number> {
  const metric = await h.relay.parts.metrics.rejects.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

function largeVitals(gatewayId: string): Buffer {
  // ~40 KB: several TCP reads, well under the packet limit.
  const t0 = Date.UTC(2026, 0, 15, 8);
  return vitals(
    gatewayId,
    1,
    Array.from({ length: 400 }, (_, i) => reading(t0 + i * 1000)),
  );
}

describe('authorize hooks refuse clients authenticate has not accepted', () => {
  let h: Harness;
  const gatewayId = 'gw-race-01';

  before(async () => {
    h = await startHarness({ limits: { connectionsPerWindow: 0 } });
    await h.enroll(gatewayId, patient(1));
  });
  after(() => h.stop());

  const attack = () => ({
    connect: connectPacket(gatewayId, 'not-a-valid-token'),
    publish: {
      cmd: 'publish' as const,
      topic: topicFor(gatewayId, 'vitals'),
      payload: largeVitals(gatewayId),
      qos: 1 as const,
      messageId: 7,
      retain: false,
      dup: false,
    },
    subscribe: { cmd: 'subscribe' as const, messageId: 8, subscriptions: [{ topic: '#', qos: 1 as const }] },
  });

  async function assertNothingGotThrough(client: RawMqttClient) {
    await client.waitClosed();
    const connack = client.packets.find(isConnack);
    if (connack) assert.notEqual(connack.returnCode, 0, 'a bad token must not be accepted');
    assert.equal(client.packets.filter(isPuback).length, 0, 'no PUBACK for a publish from an unauthenticated client');
    for (const suback of client.packets.filter(isSuback))
      assert.ok(
        suback.granted.every((g) => g === 128),
        'no granted subscription',
      );
    assert.equal(h.relay.parts.spool.depth(), 0, 'nothing spooled');
    assert.equal(h.store.readings.size, 0, 'nothing stored');
  }

  test('CONNECT with a bad token, a large PUBLISH and SUBSCRIBE # in one write', async () => {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    const { connect, publish, subscribe } = attack();
    await client.write(connect, publish, subscribe);
    await assertNothingGotThrough(client);
  });

  test('the same in separate writes, repeated to hit the window before authenticate', async () => {
    for (let i = 0; i < 25; i++) {
      const client = await RawMqttClient.connect(h.relay.mqttUrl);
      client.socket.setNoDelay(true);
      const { connect, publish, subscribe } = attack();
      await client.write(connect);
      await client.write(publish);
      await client.write(subscribe);
      await assertNothingGotThrough(client);
    }
    assert.ok((await rejects(h, 'auth-bad-token')) + (await rejects(h, 'auth-bad-credentials')) >= 25);
  });

  test('the hooks themselves refuse a client with no id and one with a forged id', async () => {
    const { aedes } = h.relay.parts.broker;
    const before = await rejects(h, 'unauthenticated');
    const forged = [{ id: null }, { id: gatewayId }] as unknown as Client[];
    for (const client of forged) {
      const publishError = await new Promise<Error | null | undefined>((resolve) =>
        aedes.authorizePublish(
          client,
          {
            cmd: 'publish',
            topic: topicFor(gatewayId, 'vitals'),
            payload: largeVitals(gatewayId),
            qos: 1,
            retain: false,
            dup: false,
            messageId: 1,
          },
          resolve,
        ),
      );
      assert.ok(publishError instanceof Error, 'publish refused');
      const subscribeResult = await new Promise<{ error: Error | null; sub: unknown }>((resolve) =>
        aedes.authorizeSubscribe(client, { topic: '#', qos: 1 }, (error, sub) => resolve({ error, sub })),
      );
      assert.ok(subscribeResult.error instanceof Error || subscribeResult.sub === null, 'subscribe refused');
    }
    assert.equal(await rejects(h, 'unauthenticated'), before + 4);
    assert.equal(h.relay.parts.spool.depth(), 0);
  });

  test('a PUBLISH and SUBSCRIBE read while CONNECT is still in progress reach the hooks and are refused', async () => {
    // aedes reads on while CONNECT is between preConnect and authenticate; holding
    // preConnect open makes that window wide enough to land the later read in it.
    const { aedes } = h.relay.parts.broker;
    const original = aedes.preConnect;
    let release: (() => void) | null = null;
    aedes.preConnect = (client, packet, callback) => {
      release = () => original(client, packet, callback);
    };
    try {
      const before = await rejects(h, 'unauthenticated');
      const client = await RawMqttClient.connect(h.relay.mqttUrl);
      const { connect, publish, subscribe } = attack();
      await client.write(connect);
      await eventually(() => release !== null);
      await client.write(publish);
      await eventually(async () => (await rejects(h, 'unauthenticated')) > before);
      release!();
      await assertNothingGotThrough(client);
      const client2 = await RawMqttClient.connect(h.relay.mqttUrl);
      release = null;
      await client2.write(connect);
      await eventually(() => release !== null);
      await client2.write(subscribe);
      await eventually(async () => (await rejects(h, 'unauthenticated')) > before + 1);
      release!();
      await assertNothingGotThrough(client2);
    } finally {
      aedes.preConnect = original;
    }
  });
});
