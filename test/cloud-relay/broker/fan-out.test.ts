/**
 * Uplink messages go to the spool, not into aedes's own pub/sub (nothing
 * subscribes to them by design); config downlinks still go through it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AedesPublishPacket } from 'aedes';
import { topicFor } from '../../../protocol/topics.ts';
import { patient } from '../support/gateway-identity.ts';
import { reading, status, vitals } from '../support/messages.ts';
import { eventually, type Harness, startHarness } from '../support/relay-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.stop());

test('an accepted uplink is spooled and acknowledged without being fanned out; a downlink is', async () => {
  const gatewayId = 'gw-fanout-01';
  const client = await h.connect(await h.enroll(gatewayId, patient('fanout')));
  const published: string[] = [];
  h.relay.parts.broker.aedes.on('publish', (packet: AedesPublishPacket) => {
    if (!packet.topic.startsWith('$SYS')) published.push(packet.topic);
  });
  const t0 = Date.now();
  await client.publishAsync(topicFor(gatewayId, 'vitals'), vitals(gatewayId, 1, [reading(t0)]), { qos: 1 });
  await client.publishAsync(topicFor(gatewayId, 'status'), status(gatewayId, 1, 'online', t0), { qos: 1, retain: true });
  await eventually(() => h.store.readings.size === 1);
  assert.deepEqual(published, [], 'uplinks are not published inside the broker');
  const retained: string[] = [];
  const { persistence } = h.relay.parts.broker.aedes as unknown as {
    persistence: { createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown> };
  };
  for await (const packet of persistence.createRetainedStreamCombi([topicFor(gatewayId, 'status')])) {
    retained.push((packet as AedesPublishPacket).topic);
  }
  assert.deepEqual(retained, [], 'nor kept as retained messages');

  await client.subscribeAsync(topicFor(gatewayId, 'config'), { qos: 1 });
  const received = new Promise<string>((resolve) => client.once('message', (topic) => resolve(topic)));
  const response = await fetch(`${h.relay.httpUrl}/api/v1/admin/gateways/${gatewayId}/config`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.relay.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ configVersion: 2, limits: {} }),
  });
  assert.equal(response.status, 202);
  assert.equal(await received, topicFor(gatewayId, 'config'));
  assert.deepEqual(published, [topicFor(gatewayId, 'config')], 'the downlink went through the broker');
});
