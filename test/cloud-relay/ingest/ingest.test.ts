/** Ingest end to end over MQTT: dedupe, gap reports, bad payloads, shutdown drain and restart. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { topicFor } from '../../../protocol/topics.ts';
import { type GatewayIdentity, patient } from '../support/gateway-identity.ts';
import { alarmEvent, alarms, reading, status, vitals } from '../support/messages.ts';
import { eventually, type Harness, startHarness } from '../support/relay-harness.ts';

const t0 = Date.UTC(2026, 0, 15, 8);

async function metricsText(h: Harness): Promise<string> {
  const response = await fetch(`${h.relay.httpUrl}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('ingest', () => {
  let h: Harness;
  let gw: GatewayIdentity;
  let client: MqttClient;
  const gatewayId = 'gw-ing-01';
  const topic = topicFor(gatewayId, 'vitals');

  before(async () => {
    h = await startHarness();
    gw = await h.enroll(gatewayId, patient(1));
    client = await h.connect(gw);
  });
  after(() => h.stop());

  test('the same (gateway, msgId) delivered twice is stored once and counted as duplicate', async () => {
    const payload = vitals(gatewayId, 1, [reading(t0), reading(t0 + 1000)], 'dedupe-msg-0001');
    await client.publishAsync(topic, payload, { qos: 1 });
    await client.publishAsync(topic, payload, { qos: 1 });
    await eventually(() => h.relay.parts.spool.depth() === 0 && h.store.readings.size === 2);
    const text = await metricsText(h);
    assert.equal(metricValue(text, 'vigil_relay_ingest_messages_total', 'kind="vitals",outcome="duplicate"'), 1);
    assert.equal(metricValue(text, 'vigil_relay_ingest_messages_total', 'kind="vitals",outcome="accepted"'), 1);
    assert.equal(h.store.writeCalls, 1);
  });

  test('a jump in seq is reported as a gap, and a late arrival fills it', async () => {
    for (const seq of [2, 3, 7]) await client.publishAsync(topic, vitals(gatewayId, seq, [reading(t0 + seq * 1000)]), { qos: 1 });
    const gaps = async () => {
      const response = await fetch(`${h.relay.httpUrl}/api/v1/admin/gateways/${gatewayId}/gaps`, {
        headers: { authorization: `Bearer ${h.relay.adminToken}` },
      });
      return ((await response.json()) as { sequences: Array<{ kind: string; missing: number[][] }> }).sequences.find(
        (s) => s.kind === 'vitals',
      )?.missing;
    };
    assert.deepEqual(await gaps(), [[4, 6]]);
    await client.publishAsync(topic, vitals(gatewayId, 5, [reading(t0 + 5000)]), { qos: 1 });
    assert.deepEqual(await gaps(), [
      [4, 4],
      [6, 6],
    ]);
    const text = await metricsText(h);
    assert.equal(metricValue(text, 'vigil_relay_seq_gaps_total', 'kind="vitals"'), 1);
    assert.equal(metricValue(text, 'vigil_relay_seq_missing_messages_total', 'kind="vitals"'), 3);
    assert.equal(client.connected, true, 'a gap is not fatal');
  });

  test('bad payloads are acknowledged, quarantined and counted by reason; the connection stays', async () => {
    const otherGateway = vitals('gw-someone-else', 1, [reading(t0)]);
    const wrongSchema = Buffer.from(JSON.stringify({ v: 1, type: 'vitals', msgId: 'bad-schema-01' }));
    await client.publishAsync(topic, Buffer.from('{not json'), { qos: 1 });
    await client.publishAsync(topic, wrongSchema, { qos: 1 });
    await client.publishAsync(topic, otherGateway, { qos: 1 });
    await client.publishAsync(topicFor(gatewayId, 'alarms'), Buffer.alloc(40 * 1024, 0x20), { qos: 1 });
    const text = await metricsText(h);
    for (const reason of ['not-json', 'schema', 'topic-mismatch', 'too-large']) {
      assert.equal(metricValue(text, 'vigil_relay_rejects_total', `reason="${reason}"`), 1, reason);
    }
    assert.deepEqual(
      h.relay.parts.spool.quarantined().map((q) => q.code),
      ['not-json', 'schema', 'topic-mismatch', 'too-large'],
    );
    assert.equal(client.connected, true);
  });

  test('alarms reach the store; status and config-ack do not enter the spool', async () => {
    await client.publishAsync(topicFor(gatewayId, 'alarms'), alarms(gatewayId, 1, [alarmEvent(t0 + 10_000)]), { qos: 1 });
    await client.publishAsync(topicFor(gatewayId, 'status'), status(gatewayId, 1, 'online', t0), { qos: 1, retain: true });
    // The will that was never sent leaves a hole in status seq: not a gap.
    await client.publishAsync(topicFor(gatewayId, 'status'), status(gatewayId, 3, 'online', t0 + 1), { qos: 1, retain: true });
    assert.equal(
      h.relay.parts.spool.gaps(gatewayId).find((g) => g.kind === 'status'),
      undefined,
    );
    await eventually(() => h.store.events.length === 1 && h.relay.parts.spool.depth() === 0);
    assert.equal(h.store.events[0]?.patientId, 'patient-1');
    assert.equal(h.relay.parts.ingest.gatewayReport(gatewayId).status?.state, 'online');
  });

  test('/metrics reports connected gateways, ingest, spool depth and store write latency', async () => {
    const text = await metricsText(h);
    assert.match(text, /^vigil_relay_connected_gateways 1$/m);
    assert.match(text, /^vigil_relay_spool_depth 0$/m);
    assert.match(text, /^vigil_relay_ingest_readings_total \d+$/m);
    assert.match(text, /^vigil_relay_store_write_seconds_count\{op="readings"\} [1-9]\d*$/m);
  });
});

describe('graceful shutdown and restart', () => {
  test('close drains the spool into the store', async () => {
    const h = await startHarness();
    const gw = await h.enroll('gw-drain-01', patient(1));
    const client = await h.connect(gw);
    h.store.failing = true;
    for (let seq = 1; seq <= 3; seq++) {
      await client.publishAsync(topicFor('gw-drain-01', 'vitals'), vitals('gw-drain-01', seq, [reading(t0 + seq * 1000)]), { qos: 1 });
    }
    assert.equal(h.relay.parts.spool.depth(), 3);
    h.store.failing = false;
    await h.stop();
    assert.equal(h.store.readings.size, 3);
  });

  test('what the store refused at shutdown is still in the spool at the next start', async () => {
    const first = await startHarness();
    const gw = await first.enroll('gw-drain-02', patient(2));
    const client = await first.connect(gw);
    first.store.failing = true;
    await client.publishAsync(topicFor('gw-drain-02', 'vitals'), vitals('gw-drain-02', 1, [reading(t0)], 'restart-msg-0001'), { qos: 1 });
    await client.endAsync();
    await first.relay.close();

    const second = await startHarness({ dataDir: first.dataDir, adminToken: first.relay.adminToken });
    try {
      // The row leaves the spool just after the store has it.
      await eventually(() => second.store.readings.size === 1 && second.relay.parts.spool.depth() === 0);
      // Dedupe survives the restart: the gateway's resend after reconnecting is not stored twice.
      const again = await second.connect(gw);
      await again.publishAsync(topicFor('gw-drain-02', 'vitals'), vitals('gw-drain-02', 1, [reading(t0)], 'restart-msg-0001'), { qos: 1 });
      const counts = await second.relay.parts.metrics.ingestMessages.get();
      assert.equal(counts.values.find((v) => v.labels.outcome === 'duplicate')?.value, 1);
    } finally {
      await second.stop();
    }
  });
});
