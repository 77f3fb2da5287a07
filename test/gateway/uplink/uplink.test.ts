import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { type GatewayClock, manualClock, systemClock } from '../../../gateway/clock/index.ts';
import { Outbox } from '../../../gateway/outbox/index.ts';
import { loadOrCreateDeviceKey } from '../../../gateway/uplink/device-key.ts';
import { startUplink, type Uplink, type UplinkOptions } from '../../../gateway/uplink/index.ts';
import { decode, encode } from '../../../protocol/codec.ts';
import { newId } from '../../../protocol/ids.ts';
import { topicFor } from '../../../protocol/topics.ts';
import { mosquittoAvailable, startMosquitto } from '../../helpers/mosquitto.ts';
import { alarmEvent, reading, silentLog } from '../outbox/samples.ts';
import { type Received, startTestBroker, type TestBroker, until } from './test-broker.ts';

const GW = 'gw-bed-01';
const AUDIENCE = 'vigil-relay';
const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function setup(opts: { clock?: GatewayClock; brokerNow?: () => number; pubackDelayMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-uplink-'));
  dirs.push(dir);
  const keyDir = join(dir, 'keys');
  const key = await loadOrCreateDeviceKey(keyDir);
  const clock = opts.clock ?? systemClock({ assumeSynced: true });
  const outbox = Outbox.open({ path: join(dir, 'outbox.db'), gatewayId: GW, clock, log: silentLog });
  const broker = await startTestBroker({
    publicJwk: key.publicJwk,
    audience: AUDIENCE,
    now: opts.brokerNow,
    pubackDelayMs: opts.pubackDelayMs,
  });
  const uplinks: Uplink[] = [];
  const start = (extra: Partial<UplinkOptions> = {}) => {
    const uplink = startUplink({
      gatewayId: GW,
      mqttUrl: broker.url,
      audience: AUDIENCE,
      keyDir,
      outbox,
      clock,
      backoff: { baseMs: 50, capMs: 400, stableMs: 1_000 },
      pacing: { messagesPerSecond: Number.POSITIVE_INFINITY },
      ...extra,
    });
    uplinks.push(uplink);
    return uplink;
  };
  cleanups.push(async () => {
    for (const u of uplinks) await u.close();
    await broker.stop().catch(() => {});
    outbox.close();
  });
  return { outbox, broker, start, clock, keyDir };
}

function uplinkMessages(received: Received[], kind: 'vitals' | 'alarms' | 'config-ack') {
  return received
    .filter((r) => r.topic === topicFor(GW, kind))
    .map((r) => JSON.parse(r.payload.toString()) as { msgId: string; seq: number });
}

function vitalsTimes(broker: TestBroker): number[] {
  const byMsgId = new Map<string, number[]>();
  for (const r of broker.received.filter((m) => m.topic === topicFor(GW, 'vitals'))) {
    const d = decode('vitals', r.payload);
    assert.ok(d.ok, 'every uplink message satisfies the contract');
    byMsgId.set(
      d.value.msgId,
      d.value.readings.map((x) => x.t),
    );
  }
  return [...byMsgId.values()].flat().sort((a, b) => a - b);
}

describe('uplink to an authenticating aedes broker', () => {
  it('drains the backlog alarm events first and deletes each message only after its PUBACK', async () => {
    const { outbox, broker, start } = await setup({ pubackDelayMs: 400 });
    for (let i = 0; i < 50; i++) outbox.enqueueVitals([reading(i)]);
    outbox.enqueueAlarms([alarmEvent(100)]);
    const uplink = start({ pacing: { maxInFlight: 20, messagesPerSecond: Number.POSITIVE_INFINITY } });
    await until(() => uplinkMessages(broker.received, 'vitals').length > 0, 'first vitals at the broker');
    // The broker has the messages but has not acknowledged them: nothing may be gone yet.
    assert.equal(outbox.stats().rows, 51);
    assert.equal(
      broker.received.findIndex((r) => r.topic.endsWith('/alarms')) < broker.received.findIndex((r) => r.topic.endsWith('/vitals')),
      true,
    );
    await until(() => outbox.stats().rows === 0, 'outbox drained');
    assert.equal(uplink.stats().acked, 51);
    assert.equal(vitalsTimes(broker).length, 50);
    const seqs = uplinkMessages(broker.received, 'vitals').map((m) => m.seq);
    assert.deepEqual(
      seqs,
      Array.from({ length: 50 }, (_, i) => i),
      'oldest first',
    );
    assert.ok(broker.tokens.length >= 1);
    assert.equal(broker.tokens[0]?.sub, GW);
  });

  it('loses nothing while the broker is down and the gateway keeps measuring; each message arrives once after dedupe', async () => {
    const { outbox, broker, start } = await setup();
    const uplink = start();
    await until(() => uplink.connected(), 'connected');
    let i = 0;
    for (; i < 20; i++) outbox.enqueueVitals([reading(i)]);
    await until(() => outbox.stats().rows === 0, 'first part delivered');
    await broker.stop();
    await until(() => !uplink.connected(), 'disconnect noticed');
    // Ten minutes of 1 Hz measurement, emulated: enqueue fast instead of waiting.
    for (; i < 620; i++) outbox.enqueueVitals([reading(i)]);
    outbox.enqueueAlarms([alarmEvent(i)]);
    assert.equal(outbox.stats().rows, 601);
    await broker.start();
    await until(() => outbox.stats().rows === 0, 'backlog delivered after the outage', 30_000);
    const times = vitalsTimes(broker);
    assert.deepEqual(
      times,
      Array.from({ length: 620 }, (_, k) => reading(k).t),
    );
    assert.ok(uplink.stats().failures >= 1);
  });

  it('re-sends what was in flight when the connection is cut, with the same msgId, so dedupe leaves every message once', async () => {
    const { outbox, broker, start } = await setup({ pubackDelayMs: 150 });
    for (let i = 0; i < 300; i++) outbox.enqueueVitals([reading(i)]);
    start({ pacing: { maxInFlight: 50, messagesPerSecond: Number.POSITIVE_INFINITY } });
    await until(() => uplinkMessages(broker.received, 'vitals').length >= 40, 'drain under way');
    broker.cutConnections();
    await until(() => outbox.stats().rows === 0, 'drained after the cut', 30_000);
    const all = uplinkMessages(broker.received, 'vitals');
    const unique = new Set(all.map((m) => m.msgId));
    assert.equal(unique.size, 300);
    assert.ok(all.length > 300, 'the cut really left messages unacknowledged, and they were sent again');
    assert.deepEqual(
      vitalsTimes(broker).filter((t, k, a) => a.indexOf(t) === k),
      Array.from({ length: 300 }, (_, k) => reading(k).t),
    );
  });

  it('backs off exponentially with full jitter while the broker is away', async () => {
    const { broker, start } = await setup();
    await broker.stop();
    const draws: number[] = [];
    const uplink = start({
      backoff: { baseMs: 50, capMs: 400, stableMs: 1_000 },
      random: () => {
        draws.push(draws.length);
        return 0.999;
      },
    });
    const delays: number[] = [];
    let lastAttempt = 0;
    await until(() => {
      const { attempt, lastRetryDelayMs } = uplink.stats();
      if (attempt !== lastAttempt && lastRetryDelayMs !== null) {
        lastAttempt = attempt;
        delays.push(lastRetryDelayMs);
      }
      return attempt >= 6;
    }, 'six failed attempts');
    // random() = 0.999 draws the top of each window: base·2^attempt up to the cap.
    assert.deepEqual(delays.slice(0, 6), [49, 99, 199, 399, 399, 399]);
    assert.ok(draws.length >= 5, 'every retry draws a fresh jitter');
    assert.equal(uplink.connected(), false);
    await broker.start();
    await until(() => uplink.connected(), 'connected once the broker is back');
  });

  it('renews its token by reconnecting before it expires, and keeps delivering', async () => {
    const { outbox, broker, start } = await setup();
    const uplink = start({ token: { lifetimeS: 2, renewAtFraction: 0.5 } });
    let i = 0;
    await until(
      () => {
        outbox.enqueueVitals([reading(i++)]);
        return broker.tokens.length >= 3;
      },
      'two renewals',
      20_000,
    );
    const jtis = new Set(broker.tokens.map((t) => t.jti));
    assert.equal(jtis.size, broker.tokens.length, 'a fresh token (jti) per connection');
    for (const t of broker.tokens) assert.equal((t.exp as number) - (t.iat as number), 2);
    assert.ok(uplink.stats().tokenRenewals >= 2);
    assert.equal(broker.refused.length, 0, 'never presented an expired token');
    await until(() => outbox.stats().rows === 0, 'everything delivered');
    assert.equal(vitalsTimes(broker).length, i);
  });

  it('keeps retrying with fresh tokens while the broker refuses them, then connects', async () => {
    const clock = manualClock({ wallMs: 1_763_000_000_000 });
    let brokerNow = 1_763_000_000_000 + 2 * 3600_000; // the broker thinks the gateway's tokens expired
    const { outbox, broker, start } = await setup({ clock, brokerNow: () => brokerNow });
    outbox.enqueueAlarms([alarmEvent(1)]);
    const uplink = start();
    await until(() => broker.refused.length >= 2, 'refusals');
    assert.equal(uplink.connected(), false);
    assert.equal(outbox.stats().rows, 1, 'nothing lost while refused');
    brokerNow = 1_763_000_000_000;
    await until(() => outbox.stats().rows === 0, 'delivered once the token is accepted');
    assert.match(broker.refused[0] ?? '', /exp/);
  });

  it('applies the config downlink once and acknowledges it through the outbox; bad downlinks are counted', async () => {
    const { broker, start } = await setup();
    const applied: number[] = [];
    const uplink = start({
      onConfig: (msg) => {
        applied.push(msg.configVersion);
        return msg.configVersion === 2 ? { accepted: true } : { accepted: false, reason: 'limit out of range' };
      },
    });
    await until(() => uplink.connected(), 'connected');
    await new Promise((r) => setTimeout(r, 100)); // the subscription is sent right after CONNACK
    const config = (configVersion: number) =>
      encode('config', { v: 1, type: 'config', msgId: newId(), configVersion, issuedAt: 1_763_000_000_000 });
    await broker.publish(topicFor(GW, 'config'), config(2), true);
    await broker.publish(topicFor(GW, 'config'), config(3));
    await broker.publish(topicFor(GW, 'config'), Buffer.from('{"v":1,"type":"config"}'));
    await until(() => uplinkMessages(broker.received, 'config-ack').length === 2, 'two acks');
    const acks = broker.received.filter((r) => r.topic === topicFor(GW, 'config-ack')).map((r) => decode('config-ack', r.payload));
    assert.deepEqual(
      acks.map((a) => (a.ok ? [a.value.configVersion, a.value.accepted, a.value.reason ?? null] : null)),
      [
        [2, true, null],
        [3, false, 'limit out of range'],
      ],
    );
    assert.deepEqual(applied, [2, 3]);
    await until(() => uplink.stats().configRejected === 2, 'the malformed downlink counted');
  });

  it('publishes a retained online status, and offline through the last will when the link dies or on close', async () => {
    const { broker, start, outbox } = await setup();
    const statusTopic = topicFor(GW, 'status');
    const state = async () => {
      const retained = await broker.retained(statusTopic);
      const d = retained ? decode('status', retained) : null;
      return d?.ok ? d.value.state : null;
    };
    outbox.enqueueVitals([reading(1)]);
    const uplink = start({
      status: () => ({ software: 'vigil-gateway 0.1.0', sensor: { state: 'ok' } }),
      // Reconnect about a second after the cut, so the will can be observed first.
      backoff: { baseMs: 1_000, capMs: 1_000 },
      random: () => 0.99,
    });
    await until(() => uplink.connected(), 'connected');
    await until(() => broker.received.some((r) => r.topic === statusTopic), 'status');
    assert.equal(await state(), 'online');
    const first = decode('status', broker.received.find((r) => r.topic === statusTopic)!.payload);
    assert.ok(first.ok);
    assert.equal(first.value.software, 'vigil-gateway 0.1.0');
    assert.ok(first.value.outbox);
    broker.cutConnections();
    await until(() => !uplink.connected(), 'cut noticed');
    // The broker publishes the will when the connection dies without DISCONNECT [MQTT-3.1.2-8].
    let current: string | null = null;
    await until(() => {
      void state().then((s) => {
        current = s;
      });
      return current === 'offline';
    }, 'offline last will');
    assert.equal(uplink.connected(), false, 'the will was seen before the reconnect');
    await until(() => uplink.connected(), 'reconnected');
    await until(() => {
      void state().then((s) => {
        current = s;
      });
      return current === 'online';
    }, 'online again');
    await uplink.close();
    assert.equal(await state(), 'offline');
  });
});

describe('uplink to Debian mosquitto', { skip: !mosquittoAvailable() && 'mosquitto is not installed' }, () => {
  it('delivers a backlog to a subscriber through mosquitto, then survives a broker restart mid-drain', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop(true));
    const dir = mkdtempSync(join(tmpdir(), 'vigil-uplink-mosq-'));
    dirs.push(dir);
    const clock = systemClock({ assumeSynced: true });
    const outbox = Outbox.open({ path: join(dir, 'outbox.db'), gatewayId: GW, clock, log: silentLog });
    cleanups.push(() => outbox.close());
    const seen = new Set<string>();
    const subscriber = await mqtt.connectAsync(broker.url, { clientId: 'test-subscriber', reconnectPeriod: 0 });
    cleanups.push(() => subscriber.endAsync(true));
    subscriber.on('message', (_topic, payload) => {
      const msg = JSON.parse(payload.toString()) as { msgId: string; type: string };
      if (msg.type === 'vitals') seen.add(msg.msgId);
    });
    await subscriber.subscribeAsync('vigil/v1/gw/+/vitals', { qos: 1 });
    for (let i = 0; i < 500; i++) outbox.enqueueVitals([reading(i)]);
    const uplink = startUplink({
      gatewayId: GW,
      mqttUrl: broker.url,
      audience: AUDIENCE,
      keyDir: join(dir, 'keys'),
      outbox,
      clock,
      backoff: { baseMs: 50, capMs: 300 },
      pacing: { messagesPerSecond: Number.POSITIVE_INFINITY },
    });
    cleanups.push(() => uplink.close());
    await until(() => outbox.stats().rows === 0, 'first backlog drained');
    await until(
      () => seen.size === 500,
      () => `subscriber has every message (${seen.size} of 500)`,
    );

    // Second backlog, and mosquitto restarts in the middle of its drain.
    for (let i = 500; i < 2_500; i++) outbox.enqueueVitals([reading(i)]);
    await until(() => outbox.stats().acked > 800, 'second drain under way');
    await broker.restart();
    await until(() => outbox.stats().rows === 0, 'drained after the restart', 30_000);
    assert.ok(uplink.stats().connects >= 2, 'the restart really cut the drain');
    assert.ok(outbox.stats().acked >= 2_500, 'every message left the outbox on a PUBACK');
    // Whether mosquitto delivers what it acknowledged just before a restart is the broker's guarantee, not
    // the gateway's; the relay acknowledges only after a durable spool write (test/e2e/reliability).
  });
});
