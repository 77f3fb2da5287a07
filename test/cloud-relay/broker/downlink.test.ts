/** Config downlink: an admin sends alarm limits; only that gateway receives them, retained for a later connect. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { decode } from '../../../protocol/codec.ts';
import { topicFor } from '../../../protocol/topics.ts';
import { patient } from '../support/gateway-identity.ts';
import { type Harness, startHarness } from '../support/relay-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.stop());

const sendConfig = (gatewayId: string, body: unknown) =>
  fetch(`${h.relay.httpUrl}/api/v1/admin/gateways/${gatewayId}/config`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.relay.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

function nextMessage(client: MqttClient): Promise<{ topic: string; payload: Buffer; retain: boolean }> {
  return new Promise((resolve) => client.once('message', (topic, payload, packet) => resolve({ topic, payload, retain: packet.retain })));
}

test('a config goes to its gateway only, and is retained for a gateway that connects later', async () => {
  const a = await h.connect(await h.enroll('gw-down-a', patient('a')));
  const b = await h.connect(await h.enroll('gw-down-b', patient('b')));
  await a.subscribeAsync(topicFor('gw-down-a', 'config'), { qos: 1 });
  await b.subscribeAsync(topicFor('gw-down-b', 'config'), { qos: 1 });
  let bGotOne = false;
  b.on('message', () => {
    bGotOne = true;
  });
  const received = nextMessage(a);
  const response = await sendConfig('gw-down-a', { configVersion: 2, limits: {} });
  assert.equal(response.status, 202);
  const message = await received;
  assert.equal(message.topic, topicFor('gw-down-a', 'config'));
  const decoded = decode('config', message.payload);
  assert.ok(decoded.ok);
  assert.equal(decoded.value.configVersion, 2);
  assert.equal(bGotOne, false);

  const gwC = await h.enroll('gw-down-c', patient('c'));
  assert.equal((await sendConfig('gw-down-c', { configVersion: 1 })).status, 202);
  const c = await h.connect(gwC);
  const retained = nextMessage(c);
  await c.subscribeAsync(topicFor('gw-down-c', 'config'), { qos: 1 });
  const late = await retained;
  assert.equal(late.retain, true);
  assert.equal((decode('config', late.payload) as { ok: true; value: { configVersion: number } }).value.configVersion, 1);
});

test('a config the contract refuses is refused with 400, an unknown gateway with 404', async () => {
  await h.enroll('gw-down-d', patient('d'));
  assert.equal((await sendConfig('gw-down-d', { configVersion: 0 })).status, 400);
  assert.equal((await sendConfig('gw-down-d', { configVersion: 3, limits: { 'spo2-low': { limit: 'low' } } })).status, 400);
  assert.equal((await sendConfig('gw-nobody', { configVersion: 3 })).status, 404);
});
