/**
 * Relay core figures: spool commit rate (fsync per message), PUBACK latency
 * for QoS 1 over loopback TCP (spool write included), CONNECT latency
 * (ES256 verification included), ingest throughput with group commit, and
 * live push latency from PUBLISH to a
 * dashboard WebSocket.
 *
 *   npx tsx test/cloud-relay/bench/relay-core.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Spool } from '../../../cloud-relay/ingest/spool.ts';
import { topicFor } from '../../../protocol/topics.ts';
import { patient } from '../support/gateway-identity.ts';
import { reading, vitals } from '../support/messages.ts';
import { startHarness } from '../support/relay-harness.ts';

function quantiles(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2);
  return `p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${s[s.length - 1]!.toFixed(2)} ms (n=${s.length})`;
}

const t0 = Date.UTC(2026, 0, 15, 8);

// 1. Spool commits, one transaction and fsync per message, as in ingest.
{
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-spool-'));
  const spool = new Spool(join(dir, 'spool.db'));
  const payload = vitals(
    'gw-bench-01',
    0,
    Array.from({ length: 10 }, (_, i) => reading(t0 + i * 1000)),
  ).toString();
  const n = 2000;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    spool.admit({
      gatewayId: 'gw-bench-01',
      patientId: 'p',
      kind: 'vitals',
      msgId: `bench-msg-${i}`,
      seq: i,
      payload,
      receivedAt: i,
      keep: true,
    });
  }
  const ms = performance.now() - start;
  console.log(`spool admit (synchronous=FULL, 10-reading message): ${(n / (ms / 1000)).toFixed(0)} msg/s, ${(ms / n).toFixed(3)} ms/msg`);
  spool.close();
  rmSync(dir, { recursive: true, force: true });
}

// No connection rate limit: the CONNECT loop below reconnects faster than a real gateway may.
const h = await startHarness({ limits: { connectionsPerWindow: 0 } });
try {
  const gw = await h.enroll('gw-bench-02', patient(1));

  // 2. CONNECT latency: TCP + CONNECT + ES256 verify + CONNACK.
  const connects: number[] = [];
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    const c = await h.connect(gw);
    connects.push(performance.now() - start);
    await c.endAsync();
  }
  console.log(`CONNECT to CONNACK (mqtt.js, ES256 token): ${quantiles(connects)}`);

  // 3. PUBACK latency, sequential QoS 1, 1 reading per message (the live path) and 60 readings (a batch).
  const client = await h.connect(gw);
  const ws = new WebSocket(
    `${h.relay.httpUrl.replace('http', 'ws')}/live?token=${h.relay.parts.registry.createViewer('bench', ['*']).viewerToken}`,
  );
  await new Promise((r) => ws.once('open', r));
  let seq = 0;
  for (const size of [1, 60]) {
    const acks: number[] = [];
    const n = 500;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const payload = vitals(
        'gw-bench-02',
        seq++,
        Array.from({ length: size }, (_, k) => reading(t0 + seq * 100_000 + k * 1000)),
      );
      const s = performance.now();
      await client.publishAsync(topicFor('gw-bench-02', 'vitals'), payload, { qos: 1 });
      acks.push(performance.now() - s);
    }
    const total = performance.now() - start;
    console.log(`PUBACK latency, ${size} reading(s)/message: ${quantiles(acks)}; ${(n / (total / 1000)).toFixed(0)} msg/s sequential`);
  }

  // 4. Pipelined throughput: 2000 QoS 1 messages in flight together.
  {
    const n = 2000;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: n }, () =>
        client.publishAsync(topicFor('gw-bench-02', 'vitals'), vitals('gw-bench-02', seq++, [reading(t0 + seq * 1000)]), { qos: 1 }),
      ),
    );
    const ms = performance.now() - start;
    console.log(`pipelined QoS 1 ingest, one gateway: ${(n / (ms / 1000)).toFixed(0)} msg/s acknowledged`);
  }

  // 5. Twenty gateways publishing at once: group commit shares one fsync among them.
  {
    const clients = await Promise.all(
      Array.from({ length: 20 }, async (_, g) => {
        const id = `gw-bench-f${String(g).padStart(2, '0')}`;
        return { id, client: await h.connect(await h.enroll(id, patient(`f${g}`))) };
      }),
    );
    const perGateway = 100;
    const start = performance.now();
    await Promise.all(
      clients.flatMap(({ id, client: c }) =>
        Array.from({ length: perGateway }, (_, i) =>
          c.publishAsync(topicFor(id, 'vitals'), vitals(id, i, [reading(t0 + i * 1000)]), { qos: 1 }),
        ),
      ),
    );
    const ms = performance.now() - start;
    console.log(
      `20 gateways × ${perGateway} pipelined QoS 1: ${((clients.length * perGateway) / (ms / 1000)).toFixed(0)} msg/s acknowledged`,
    );
    await Promise.all(clients.map(({ client: c }) => c.endAsync()));
  }

  // 6. Live push latency: PUBLISH sent → vitals message on the dashboard socket.
  {
    const pushes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const hr = 40 + (i % 100);
      const received = new Promise<void>((resolve) => {
        const onMessage = (data: WebSocket.RawData) => {
          const m = JSON.parse(data.toString()) as { type: string; reading?: { hr: number; t: number } };
          if (m.type === 'vitals' && m.reading?.t === t0 + 1_000_000_000 + i * 1000) {
            ws.off('message', onMessage);
            resolve();
          }
        };
        ws.on('message', onMessage);
      });
      const s = performance.now();
      client.publish(topicFor('gw-bench-02', 'vitals'), vitals('gw-bench-02', seq++, [reading(t0 + 1_000_000_000 + i * 1000, hr)]), {
        qos: 1,
      });
      await received;
      pushes.push(performance.now() - s);
    }
    console.log(`live push, PUBLISH → dashboard WebSocket: ${quantiles(pushes)}`);
  }
  ws.close();
  await client.endAsync();
} finally {
  await h.stop();
}
