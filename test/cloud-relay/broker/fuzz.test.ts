/** Random bytes before and after a valid CONNECT, and mangled valid packets: the relay stays up and keeps serving. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { mulberry32 as prng } from '../../../firmware-bridge/sources/random.ts';
import { topicFor } from '../../../protocol/topics.ts';
import { patient } from '../support/gateway-identity.ts';
import { reading, vitals } from '../support/messages.ts';
import { connectPacket, isConnack, RawMqttClient } from '../support/raw-mqtt.ts';
import { type Harness, startHarness } from '../support/relay-harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ limits: { connectionsPerWindow: 0, connectTimeoutMs: 500 } });
});
after(() => h.stop());

test('200 connections of garbage and mangled packets leave the relay serving', async () => {
  const gw = await h.enroll('gw-fuzz-01', patient(1));
  const token = await gw.token();
  const random = prng(0x5eed);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const valid = mqttPacket.generate({
    cmd: 'publish',
    topic: topicFor('gw-fuzz-01', 'vitals'),
    payload: vitals('gw-fuzz-01', 1, [reading(Date.UTC(2026, 0, 15, 8))]),
    qos: 1,
    messageId: 9,
    retain: false,
    dup: false,
  });
  for (let i = 0; i < 200; i++) {
    const client = await RawMqttClient.connect(h.relay.mqttUrl);
    const mode = i % 3;
    if (mode === 0) {
      await client.writeBytes(bytes(1 + Math.floor(random() * 300)));
    } else {
      await client.write(connectPacket('gw-fuzz-01', token));
      if (mode === 1) {
        await client.writeBytes(bytes(1 + Math.floor(random() * 300)));
      } else {
        // A valid PUBLISH with a few bytes flipped.
        const mangled = Buffer.from(valid);
        for (let k = 0; k < 3; k++) mangled[Math.floor(random() * mangled.length)] = Math.floor(random() * 256);
        await client.writeBytes(mangled);
      }
    }
    client.socket.end();
    await client.waitClosed(10_000).catch(() => client.close());
  }
  assert.equal((await fetch(`${h.relay.httpUrl}/healthz`)).status, 200);
  const check = await RawMqttClient.connect(h.relay.mqttUrl);
  await check.write(connectPacket('gw-fuzz-01', token));
  assert.equal((await check.waitPacket(isConnack)).returnCode, 0, 'a well-behaved gateway still gets in');
  check.close();
  const rejects = await h.relay.parts.metrics.rejects.get();
  assert.ok((rejects.values.find((v) => v.labels.reason === 'bad-packet')?.value ?? 0) > 50, 'bad packets were counted');
});
