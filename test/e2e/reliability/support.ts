/**
 * A real relay (broker, ingest with dedupe, spool) for the reliability tests,
 * restartable on the same ports and data folder, plus the admin-API step that
 * lets a gateway enroll over HTTP as it does in the field.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { type Relay, startRelay } from '../../../cloud-relay/relay.ts';
import { systemClock } from '../../../gateway/clock/index.ts';
import { Outbox } from '../../../gateway/outbox/index.ts';
import { enrollGateway } from '../../../gateway/uplink/index.ts';
import { ENROLLMENT_PATHS } from '../../../protocol/enrollment.ts';
import type { UplinkKind } from '../../../protocol/topics.ts';
import { MemoryHistoryStore } from '../../cloud-relay/support/memory-store.ts';
import { silentLog } from '../../gateway/outbox/samples.ts';

export interface TestRelay {
  relay: Relay;
  store: MemoryHistoryStore;
  mqttUrl: string;
  httpUrl: string;
  /** Ingest outcomes summed over every start of the relay. */
  outcomes(kind: UplinkKind): Promise<{ accepted: number; duplicate: number; rejected: number }>;
  stop(): Promise<void>;
  start(): Promise<void>;
  createEnrollmentToken(gatewayId: string, patientId: string): Promise<string>;
}

export async function startTestRelay(dataDir: string): Promise<TestRelay> {
  const store = new MemoryHistoryStore();
  const previous: { kind: string; outcome: string; value: number }[] = [];
  let mqttPort = 0;
  let httpPort = 0;
  let relay: Relay;
  let running = false;
  const start = async () => {
    relay = await startRelay({
      dataDir,
      host: '127.0.0.1',
      mqttPort,
      httpPort,
      store,
      adminToken: 'admin-token-for-tests-0123456789',
      log: pino({ level: process.env.VIGIL_TEST_LOG ?? 'silent' }),
      dashboardDir: false,
      drain: { minBackoffMs: 20, maxBackoffMs: 200, shutdownDeadlineMs: 2000 },
      // Reconnect storms are the relay's concern elsewhere; here a gateway reconnects often on purpose.
      limits: { connectionsPerWindow: 0 },
    });
    mqttPort = Number(new URL(relay.mqttUrl).port);
    httpPort = Number(new URL(relay.httpUrl).port);
    running = true;
  };
  await start();
  const current = async () =>
    (running ? (await relay.parts.metrics.ingestMessages.get()).values : []).map((v) => ({
      kind: String(v.labels.kind),
      outcome: String(v.labels.outcome),
      value: v.value,
    }));
  return {
    get relay() {
      return relay;
    },
    store,
    get mqttUrl() {
      return relay.mqttUrl;
    },
    get httpUrl() {
      return relay.httpUrl;
    },
    async outcomes(kind) {
      const all = [...previous, ...(await current())].filter((v) => v.kind === kind);
      const sum = (outcome: string) => all.filter((v) => v.outcome === outcome).reduce((a, v) => a + v.value, 0);
      return {
        accepted: sum('accepted'),
        duplicate: sum('duplicate'),
        rejected: all.reduce((a, v) => a + v.value, 0) - sum('accepted') - sum('duplicate'),
      };
    },
    async stop() {
      if (!running) return;
      previous.push(...(await current()));
      running = false;
      await relay.close();
    },
    start,
    async createEnrollmentToken(gatewayId, patientId) {
      const response = await fetch(new URL(ENROLLMENT_PATHS.createEnrollment, relay.httpUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer admin-token-for-tests-0123456789' },
        body: JSON.stringify({ gatewayId, patient: { patientId, displayName: 'Test Patient', bed: '7' } }),
      });
      if (response.status !== 201) throw new Error(`enrollment token refused: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { enrollmentToken: string }).enrollmentToken;
    },
  };
}

/**
 * A gateway enrolled with the relay over HTTP as in the field, its keys in
 * `<dir>/gw` and its outbox open on an NTP-synced clock: where each test's
 * gateway starts before its uplink does.
 */
export async function enrolledGateway(relay: TestRelay, dir: string, gatewayId: string, patientId: string) {
  const keyDir = join(dir, 'gw');
  const { audience } = await enrollGateway({
    relayHttpUrl: relay.httpUrl,
    enrollmentToken: await relay.createEnrollmentToken(gatewayId, patientId),
    gatewayId,
    keyDir,
  });
  const clock = systemClock({ assumeSynced: true });
  const outbox = Outbox.open({ path: join(keyDir, 'outbox.db'), gatewayId, clock, log: silentLog });
  return { keyDir, audience, clock, outbox };
}
