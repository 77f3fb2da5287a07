/**
 * aedes 1.2 writes PUBACK for a QoS 1 PUBLISH right after `authorizePublish`
 * and before `broker.publish` / `published` (lib/handlers/publish.js,
 * enqueuePublish case 1). A spool write in `published` would therefore come
 * after the PUBACK; the relay writes the spool inside `authorizePublish`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { topicFor } from '../../../protocol/topics.ts';
import { patient } from '../support/gateway-identity.ts';
import { reading, vitals } from '../support/messages.ts';
import { connectPacket, isConnack, isPuback, RawMqttClient } from '../support/raw-mqtt.ts';
import { type Harness, startHarness } from '../support/relay-harness.ts';

const t0 = Date.UTC(2026, 0, 15, 8);

describe('the spool write comes before PUBACK', () => {
  let h: Harness;
  let token: string;
  const gatewayId = 'gw-ack-01';

  before(async () => {
    h = await startHarness();
    token = await (await h.enroll(gatewayId, patient(1))).token();
    // Hold the drainer's store writes so spooled rows stay visible.
    h.store.failing = true;
  });
  after(() => h.stop());

  const publish = (messageId: number, msgId: string) => ({
    cmd: 'publish' as const,
    topic: topicFor(gatewayId, 'vitals'),
    payload: vitals(gatewayId, messageId, [reading(t0 + messageId * 1000)], msgId),
    qos: 1 as const,
    messageId,
    retain: false,
    dup: false,
  });

  test('when PUBACK arrives, the message is already committed to the spool file', async () => {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write(connectPacket(gatewayId, token));
    assert.equal((await client.waitPacket(isConnack)).returnCode, 0);
    await client.write(publish(11, 'ordering-msg-0011'));
    const puback = await client.waitPacket(isPuback);
    assert.equal(puback.messageId, 11);
    // A second connection sees only committed transactions.
    const reader = new Database(join(h.dataDir, 'spool.db'), { readonly: true });
    const row = reader.prepare('SELECT msg_id FROM spool WHERE gateway_id = ? AND msg_id = ?').get(gatewayId, 'ordering-msg-0011');
    reader.close();
    assert.deepEqual(row, { msg_id: 'ordering-msg-0011' });
    client.close();
  });

  test('when the spool write fails, no PUBACK goes out and the gateway keeps the message', async () => {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write(connectPacket(gatewayId, token));
    assert.equal((await client.waitPacket(isConnack)).returnCode, 0);
    h.relay.parts.spool.close();
    await client.write(publish(12, 'ordering-msg-0012'));
    await client.waitClosed();
    assert.equal(client.packets.filter(isPuback).length, 0, 'no PUBACK for a message that is not durable');
    const rejects = await h.relay.parts.metrics.rejects.get();
    assert.equal(rejects.values.find((v) => v.labels.reason === 'spool-failure')?.value, 1);
    assert.equal((await fetch(`${h.relay.httpUrl}/healthz`)).status, 200, 'the relay lives on');
    assert.equal((await fetch(`${h.relay.httpUrl}/readyz`)).status, 503, 'but is not ready without its spool');
  });
});
