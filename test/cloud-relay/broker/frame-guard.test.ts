import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { FrameGuard } from '../../../cloud-relay/broker/frame-guard.ts';

const publish = (bytes: number) =>
  mqttPacket.generate({
    cmd: 'publish',
    topic: 'vigil/v1/gw/gw-a01/vitals',
    payload: Buffer.alloc(bytes),
    qos: 1,
    messageId: 1,
    retain: false,
    dup: false,
  });

test('packets under the limit pass, however the stream is split', () => {
  const stream = Buffer.concat([publish(100), publish(5000), mqttPacket.generate({ cmd: 'pingreq' }), publish(0)]);
  for (const size of [1, 3, 7, 1000, stream.length]) {
    const guard = new FrameGuard(6000);
    for (let i = 0; i < stream.length; i += size) assert.deepEqual(guard.feed(stream.subarray(i, i + size)), { ok: true });
  }
});

test('the first packet over the limit is refused from its header, and the guard stays refused', () => {
  const guard = new FrameGuard(6000);
  assert.equal(guard.feed(publish(1000)).ok, true);
  const big = publish(7000);
  const verdict = guard.feed(big.subarray(0, 5));
  assert.equal(verdict.ok, false);
  assert.equal(!verdict.ok && verdict.reason, 'packet-too-large');
  assert.equal(guard.feed(publish(10)).ok, false);
});

test('a packet exactly at the limit passes', () => {
  const packet = publish(2000);
  assert.equal(new FrameGuard(packet.length).feed(packet).ok, true);
  assert.equal(new FrameGuard(packet.length - 1).feed(packet).ok, false);
});

test('a fifth Remaining Length byte is a bad packet [MQTT-2.2.3]', () => {
  const verdict = new FrameGuard(1 << 30).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
  assert.equal(!verdict.ok && verdict.reason, 'bad-packet');
});
