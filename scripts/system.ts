/**
 * Brings up a whole Vigil system on one machine: the relay in this process,
 * each gateway as its own child process with its own outbox. Used by the
 * start command and by the end-to-end tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Relay, startRelay } from '../cloud-relay/relay.ts';
import { ENROLLMENT_PATHS } from '../protocol/enrollment.ts';
import { buildGateway, GATEWAY_NODE_FLAGS } from './build.ts';
import type { DemoPatient } from './demo-patients.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface SystemOptions {
  dataDir: string;
  patients: readonly DemoPatient[];
  httpPort?: number;
  mqttPort?: number;
  /** Relay log level; gateway logs go to files in dataDir. */
  logLevel?: string;
}

export interface RunningSystem {
  relay: Relay;
  dashboardUrl: string;
  viewerToken: string;
  gateways: Map<string, ChildProcess>;
  logDir: string;
  stop(): Promise<void>;
}

/** Resolves once every gateway has published its `online` status, so a dashboard opened now shows them all. */
async function waitUntilOnline(relay: Relay, gateways: Map<string, ChildProcess>, logDir: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const [gatewayId, child] of gateways) {
      if (child.exitCode !== null)
        throw new Error(`gateway ${gatewayId} exited with ${child.exitCode}; see ${join(logDir, `${gatewayId}.log`)}`);
    }
    const response = await fetch(new URL('/api/v1/admin/gateways', relay.httpUrl), {
      headers: { authorization: `Bearer ${relay.adminToken}` },
    });
    const { gateways: listed } = (await response.json()) as { gateways: { gatewayId: string; lastStatus: { state: string } | null }[] };
    const online = new Set(listed.filter((g) => g.lastStatus?.state === 'online').map((g) => g.gatewayId));
    if ([...gateways.keys()].every((id) => online.has(id))) return;
    if (Date.now() > deadline) throw new Error(`gateways not online within ${timeoutMs / 1000} s; logs in ${logDir}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function adminPost<T>(relay: Relay, path: string, body: unknown): Promise<T> {
  const response = await fetch(new URL(path, relay.httpUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${relay.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`relay refused ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Starts one gateway process from the bundle (see scripts/build.ts), as it runs on a Pi. */
export function spawnGateway(bundle: string, patient: DemoPatient, env: Record<string, string>, logDir: string): ChildProcess {
  const log = createWriteStream(join(logDir, `${patient.gatewayId}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, '--enable-source-maps', bundle], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('exit', () => log.end());
  return child;
}

export async function stopChild(child: ChildProcess, graceMs = 8000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const bundle = await buildGateway();
  const logDir = join(options.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const relay = await startRelay({
    dataDir: join(options.dataDir, 'relay'),
    httpPort: options.httpPort ?? 0,
    mqttPort: options.mqttPort ?? 0,
    logLevel: options.logLevel ?? 'warn',
    adminToken: randomBytes(32).toString('base64url'),
  });
  const gateways = new Map<string, ChildProcess>();
  try {
    const { viewerToken } = await adminPost<{ viewerToken: string }>(relay, '/api/v1/admin/viewers', {
      name: 'ward-demo',
      patientIds: options.patients.map((p) => p.patientId),
    });
    for (const patient of options.patients) {
      const { enrollmentToken } = await adminPost<{ enrollmentToken: string }>(relay, ENROLLMENT_PATHS.createEnrollment, {
        gatewayId: patient.gatewayId,
        patient: { patientId: patient.patientId, displayName: patient.displayName, bed: patient.bed },
      });
      const child = spawnGateway(
        bundle,
        patient,
        {
          VIGIL_GATEWAY_ID: patient.gatewayId,
          VIGIL_DATA_DIR: join(options.dataDir, 'gateways', patient.gatewayId),
          VIGIL_RELAY_HTTP_URL: relay.httpUrl,
          VIGIL_RELAY_MQTT_URL: relay.mqttUrl,
          VIGIL_ENROLLMENT_TOKEN: enrollmentToken,
          VIGIL_SENSOR_MODE: 'emulator',
          VIGIL_SCENARIO_FILE: resolve(REPO_ROOT, 'firmware-bridge/scenarios', patient.scenario),
        },
        logDir,
      );
      gateways.set(patient.gatewayId, child);
    }
    await waitUntilOnline(relay, gateways, logDir);
    const dashboardUrl = `${relay.httpUrl.replace(/\/$/, '')}/?token=${encodeURIComponent(viewerToken)}`;
    return {
      relay,
      dashboardUrl,
      viewerToken,
      gateways,
      logDir,
      async stop() {
        await Promise.all([...gateways.values()].map((child) => stopChild(child)));
        await relay.close();
      },
    };
  } catch (error) {
    await Promise.all([...gateways.values()].map((child) => stopChild(child)));
    await relay.close();
    throw error;
  }
}
