/** Starts a relay on free loopback ports in a temp folder, with a memory store and a silent log. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { type Relay, type RelayConfig, startRelay } from '../../../cloud-relay/relay.ts';
import type { PatientAssignment } from '../../../protocol/enrollment.ts';
import { enrollDirect, type GatewayIdentity } from './gateway-identity.ts';
import { MemoryHistoryStore } from './memory-store.ts';

export interface Harness {
  relay: Relay;
  store: MemoryHistoryStore;
  dataDir: string;
  enroll(gatewayId: string, assignment: PatientAssignment): Promise<GatewayIdentity>;
  /** Connects with mqtt.js as the gateway does; resolves on CONNACK, rejects on refusal. */
  connect(
    identity: GatewayIdentity,
    extra?: IClientOptions & { tokenNowMs?: number; lifetimeS?: number; audience?: string },
  ): Promise<MqttClient>;
  stop(): Promise<void>;
}

export async function startHarness(config: Partial<RelayConfig> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-relay-test-'));
  const store = new MemoryHistoryStore();
  const relay = await startRelay({
    dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    httpPort: 0,
    store,
    log: pino({ level: process.env.VIGIL_TEST_LOG ?? 'silent' }),
    dashboardDir: false,
    drain: { minBackoffMs: 20, maxBackoffMs: 200, shutdownDeadlineMs: 2000 },
    ...config,
  });
  const clients: MqttClient[] = [];
  return {
    relay,
    store,
    dataDir,
    enroll: (gatewayId, assignment) => enrollDirect(relay.parts.registry, gatewayId, assignment),
    async connect(identity, extra = {}) {
      const { tokenNowMs, lifetimeS, audience, ...options } = extra;
      const password = await identity.token({ nowMs: tokenNowMs, lifetimeS, audience });
      const client = mqtt.connect(relay.mqttUrl, {
        clientId: identity.gatewayId,
        username: identity.gatewayId,
        password,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...options,
      });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(new Error('closed before CONNACK')));
      });
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
      await relay.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function publishAck(client: MqttClient, topic: string, payload: Buffer): Promise<void> {
  await client.publishAsync(topic, payload, { qos: 1 });
}

/** Polls `condition` on the event loop (no wall-time assertions: only a generous upper bound). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
