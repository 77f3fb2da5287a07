import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { maySubscribe, uplinkKindFor } from '../../../cloud-relay/broker/acl.ts';
import { topicFor } from '../../../protocol/topics.ts';
import { patient } from '../support/gateway-identity.ts';
import { reading, vitals } from '../support/messages.ts';
import { connectPacket, isConnack, isPuback, isSuback, RawMqttClient } from '../support/raw-mqtt.ts';
import { type Harness, startHarness } from '../support/relay-harness.ts';

describe('topic ACL rules', () => {
  test('a gateway publishes only its own uplink kinds', () => {
    assert.equal(uplinkKindFor('gw-a01', 'vigil/v1/gw/gw-a01/vitals'), 'vitals');
    assert.equal(uplinkKindFor('gw-a01', 'vigil/v1/gw/gw-a01/status'), 'status');
    assert.equal(uplinkKindFor('gw-a01', 'vigil/v1/gw/gw-b01/vitals'), null);
    assert.equal(uplinkKindFor('gw-a01', 'vigil/v1/gw/gw-a01/config'), null, 'config is downlink only');
    assert.equal(uplinkKindFor('gw-a01', 'vigil/v1/gw/gw-a01/vitals/extra'), null);
    assert.equal(uplinkKindFor('gw-a01', '$SYS/broker/x'), null);
  });

  test('a gateway subscribes only to its own config topic, never with wildcards', () => {
    assert.equal(maySubscribe('gw-a01', 'vigil/v1/gw/gw-a01/config'), true);
    for (const filter of [
      '#',
      '+/#',
      'vigil/v1/gw/+/config',
      'vigil/v1/gw/gw-a01/#',
      'vigil/v1/gw/gw-b01/config',
      'vigil/v1/gw/gw-a01/vitals',
      '$SYS/#',
    ]) {
      assert.equal(maySubscribe('gw-a01', filter), false, filter);
    }
  });
});

describe('the broker confines a gateway to its own topics', () => {
  let h: Harness;
  let tokenA: string;
  const t0 = Date.UTC(2026, 0, 15, 8);

  before(async () => {
    h = await startHarness();
    const a = await h.enroll('gw-acl-a', patient('a'));
    await h.enroll('gw-acl-b', patient('b'));
    tokenA = await a.token();
  });
  after(() => h.stop());

  async function connectedA(): Promise<RawMqttClient> {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write(connectPacket('gw-acl-a', tokenA));
    const connack = await client.waitPacket(isConnack);
    assert.equal(connack.returnCode, 0);
    return client;
  }

  test("publishing to gateway B's topic closes the connection without PUBACK", async () => {
    const client = await connectedA();
    await client.write({
      cmd: 'publish',
      topic: topicFor('gw-acl-b', 'vitals'),
      payload: vitals('gw-acl-b', 1, [reading(t0)]),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    });
    await client.waitClosed();
    assert.equal(client.packets.filter(isPuback).length, 0);
    assert.equal(h.relay.parts.spool.depth(), 0);
  });

  test("subscribing to B's config, to # or to a wildcard over gateways is refused (SUBACK 0x80); its own config is granted", async () => {
    const client = await connectedA();
    await client.write({
      cmd: 'subscribe',
      messageId: 2,
      subscriptions: [
        { topic: topicFor('gw-acl-b', 'config'), qos: 1 },
        { topic: '#', qos: 1 },
        { topic: 'vigil/v1/gw/+/config', qos: 1 },
        { topic: topicFor('gw-acl-a', 'config'), qos: 1 },
      ],
    });
    const suback = await client.waitPacket(isSuback);
    assert.deepEqual(suback.granted, [128, 128, 128, 1]);
    client.close();
  });

  test('a username that differs from the client id is refused at CONNECT', async () => {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write(connectPacket('gw-acl-a', tokenA, 'gw-acl-b'));
    const connack = await client.waitPacket(isConnack);
    assert.notEqual(connack.returnCode, 0);
    await client.waitClosed();
  });

  test("gateway A's token does not admit it as gateway B", async () => {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    await client.write(connectPacket('gw-acl-b', tokenA));
    const connack = await client.waitPacket(isConnack);
    assert.equal(connack.returnCode, 4);
    await client.waitClosed();
  });
});
