/**
 * npm run bench:outbox [-- --quick]
 *
 * The store-and-forward figures of docs/BENCHMARKS.md: enqueue rate (with
 * the production fsync per commit, and without), bytes stored per reading
 * for 24 h of 1 Hz vitals plus alarm events, drain rate after an outage to
 * Debian's mosquitto, to a plain aedes broker and to the whole relay (aedes +
 * durable spool before PUBACK), and the gateway process RSS after a drain.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';

import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startRelay } from '../../cloud-relay/relay.ts';
import { systemClock } from '../../gateway/clock/index.ts';
import { Outbox } from '../../gateway/outbox/index.ts';
import { loadOrCreateDeviceKey } from '../../gateway/uplink/device-key.ts';
import { DEFAULT_PACING, startUplink } from '../../gateway/uplink/index.ts';
import { newId } from '../../protocol/ids.ts';
import type { AlarmEvent, Reading } from '../../protocol/schemas.ts';
import { DEMO_PATIENTS } from '../../scripts/demo-patients.ts';
import { startSystem } from '../../scripts/system.ts';
import { MemoryHistoryStore } from '../cloud-relay/support/memory-store.ts';
import { startTestBroker } from '../gateway/uplink/test-broker.ts';
import { mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.ts';

const quick = process.argv.includes('--quick');
const GW = 'gw-bench-01';
const silent = { info() {}, warn() {}, error() {} };
const root = mkdtempSync(join(tmpdir(), 'vigil-bench-outbox-'));
const clock = systemClock({ assumeSynced: true });
const T0 = Date.now() - 48 * 3600_000;
let dbCount = 0;

function reading(i: number): Reading {
  // Realistic values: one decimal, as the signal pipeline reports them.
  return {
    t: T0 + i * 1000,
    mono: 50_000 + i * 1000,
    hr: Math.round((72 + 8 * Math.sin(i / 60)) * 10) / 10,
    spo2: Math.round((97 - (i % 7) / 10) * 10) / 10,
    pi: Math.round((2.4 + (i % 13) / 100) * 100) / 100,
    sqi: Math.round((0.9 + (i % 9) / 100) * 1000) / 1000,
    reasons: i % 50 === 0 ? ['motion'] : [],
  };
}

function alarm(i: number): AlarmEvent {
  return {
    t: T0 + i * 1000,
    mono: 50_000 + i * 1000,
    alarmId: newId(),
    rule: 'spo2-low',
    event: 'raised',
    kind: 'physiological',
    priority: 'high',
    value: 87,
    limit: 90,
    unit: '%',
    message: 'SpO2 below 90 % for 10 s',
  };
}

function openOutbox(synchronous: 'FULL' | 'NORMAL' = 'FULL') {
  const path = join(root, `outbox-${dbCount++}.db`);
  return { path, outbox: Outbox.open({ path, gatewayId: GW, clock, log: silent, synchronous, budget: { maxBytes: 1e9, maxRows: 1e7 } }) };
}

function rate(n: number, ms: number): number {
  return Math.round((n / ms) * 1000);
}

const figures: Record<string, string | number> = {};
function report(name: string, value: string | number) {
  figures[name] = value;
  console.log(`${name.padEnd(58)} ${value}`);
}

// ---- enqueue -------------------------------------------------------------------------------------------------
{
  const n = quick ? 300 : 1_000;
  const { outbox } = openOutbox('FULL');
  let start = performance.now();
  for (let i = 0; i < n; i++) outbox.enqueueVitals([reading(i)]);
  report('enqueue vitals, 1 reading/msg, synchronous=FULL (msg/s)', rate(n, performance.now() - start));
  start = performance.now();
  for (let i = 0; i < n / 5; i++) outbox.enqueueAlarms([alarm(i)]);
  report('enqueue alarm events, synchronous=FULL (msg/s)', rate(n / 5, performance.now() - start));
  outbox.close();
}
{
  const n = quick ? 5_000 : 20_000;
  const { outbox } = openOutbox('NORMAL');
  const start = performance.now();
  for (let i = 0; i < n; i++) outbox.enqueueVitals([reading(i)]);
  report('enqueue vitals, synchronous=NORMAL (msg/s)', rate(n, performance.now() - start));
  outbox.close();
}

// ---- storage for 24 h ----------------------------------------------------------------------------------------
{
  const n = quick ? 8_640 : 86_400;
  const alarms = quick ? 30 : 300;
  const { path, outbox } = openOutbox('NORMAL');
  for (let i = 0; i < n; i++) {
    outbox.enqueueVitals([reading(i)]);
    if (i % Math.floor(n / alarms) === 0) outbox.enqueueAlarms([alarm(i)]);
  }
  const stats = outbox.stats();
  outbox.close(); // checkpoints the WAL into the database file
  const fileBytes = statSync(path).size;
  report(`stored: ${n} readings (1 Hz) + ${alarms} alarm events, file bytes`, fileBytes);
  report('stored: bytes per reading (file size / readings)', Math.round(fileBytes / n));
  report('stored: 24 h of 1 Hz vitals + alarm events (MB, extrapolated)', (((fileBytes / n) * 86_400) / 1e6).toFixed(1));
  report('stored: budget accounting, bytes per reading', Math.round(stats.bytes / n));
}

// ---- drain after an outage --------------------------------------------------------------------------------------
async function drain(label: string, mqttUrl: string, keyDir: string, audience: string, paced: boolean, n: number) {
  const { outbox } = openOutbox('NORMAL');
  for (let i = 0; i < n; i++) outbox.enqueueVitals([reading(i)]);
  for (let i = 0; i < n / 100; i++) outbox.enqueueAlarms([alarm(i)]);
  const total = outbox.stats().rows;
  const start = performance.now();
  const cpu = process.cpuUsage();
  let connectedAt = 0;
  const uplink = startUplink({
    gatewayId: GW,
    mqttUrl,
    audience,
    keyDir,
    outbox,
    clock,
    pacing: paced ? {} : { messagesPerSecond: Number.POSITIVE_INFINITY },
    onConnectionChange: (c) => {
      if (c && !connectedAt) connectedAt = performance.now();
    },
  });
  while (outbox.stats().rows > 0) await new Promise((r) => setTimeout(r, 5));
  const end = performance.now();
  const used = process.cpuUsage(cpu);
  report(
    `drain ${label}, ${paced ? `paced ${DEFAULT_PACING.messagesPerSecond}/s` : 'unpaced'} (msg/s, ${total} msgs)`,
    rate(total, end - connectedAt),
  );
  const mode = paced ? 'paced' : 'unpaced';
  report(`drain ${label}, ${mode}: time from start to empty (s)`, ((end - start) / 1000).toFixed(2));
  // CPU per message is what the drain costs whatever else the machine is doing (wall-clock rates are noisy here).
  report(`drain ${label}, ${mode}: bench-process CPU per message (µs)`, Math.round((used.user + used.system) / total));
  await uplink.close();
  outbox.close();
}

const CHILD_TS = fileURLToPath(new URL('../e2e/reliability/gateway-child.ts', import.meta.url));

/**
 * The same child bundled to plain JavaScript (esbuild, which tsx itself runs on), so its RSS is measured
 * without the TypeScript loader; written under the git-ignored .data/ so node_modules resolve.
 */
async function bundledChild(): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = fileURLToPath(new URL('../../.data/bench/gateway-child.mjs', import.meta.url));
  await build({
    entryPoints: [CHILD_TS],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** Peak RSS (VmHWM) of a separate gateway process (outbox + uplink) draining `count` messages. */
async function gatewayRss(mqttUrl: string, count: number, args: string[]): Promise<string> {
  const { path, outbox } = openOutbox('NORMAL');
  for (let i = 0; i < count; i++) outbox.enqueueVitals([reading(i)]);
  outbox.close();
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      VIGIL_CHILD: JSON.stringify({ mode: 'drain', path, gatewayId: GW, keyDir, mqttUrl, audience: 'vigil-relay' }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peakKb = 0;
  const timer = setInterval(() => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (match) peakKb = Math.max(peakKb, Number(match[1]));
    } catch {
      // exited
    }
  }, 20);
  await new Promise((resolve) => child.once('exit', resolve));
  clearInterval(timer);
  return (peakKb / 1024).toFixed(1);
}

const n = quick ? 5_000 : 20_000;
const keyDir = join(root, 'keys');
const key = await loadOrCreateDeviceKey(keyDir);

if (mosquittoAvailable()) {
  const mosquitto = await startMosquitto();
  await drain('to mosquitto', mosquitto.url, keyDir, 'vigil-relay', false, n);
  await drain('to mosquitto', mosquitto.url, keyDir, 'vigil-relay', true, n);
  report('gateway process peak RSS while draining, under tsx (MB)', await gatewayRss(mosquitto.url, n, ['--import', 'tsx', CHILD_TS]));
  const bundled = await bundledChild();
  report('gateway process peak RSS while draining, bundled JS (MB)', await gatewayRss(mosquitto.url, n, [bundled]));
  report(
    'same, node --max-semi-space-size=2 --max-old-space-size=64 (MB)',
    await gatewayRss(mosquitto.url, n, ['--max-semi-space-size=2', '--max-old-space-size=64', bundled]),
  );
  await mosquitto.stop();
} else console.log('mosquitto not installed: skipped');

{
  const broker = await startTestBroker({ publicJwk: key.publicJwk, audience: 'vigil-relay' });
  await drain('to aedes (JWT auth)', broker.url, keyDir, 'vigil-relay', false, n);
  await broker.stop();
}

{
  const store = new MemoryHistoryStore();
  const relay = await startRelay({
    dataDir: join(root, 'relay'),
    host: '127.0.0.1',
    mqttPort: 0,
    httpPort: 0,
    store,
    log: pino({ level: 'silent' }),
    dashboardDir: false,
    adminToken: 'bench-admin-token-0123456789abcdef',
  });
  const created = relay.parts.registry.createEnrollment(GW, { patientId: 'bench-1', displayName: 'Bench', bed: '1' });
  await relay.parts.registry.enroll(created.enrollmentToken, GW, key.publicJwk as never);
  await drain('to the relay (spool write before PUBACK)', relay.mqttUrl, keyDir, 'vigil-relay', false, quick ? 2_000 : 5_000);
  await relay.close();
}

{
  // Whole gateways (emulated sensor, signal, alarms, outbox, uplink) as the start command runs them: bundled, capped
  // heaps, enrolling with the relay at their first start. Their high-water mark covers start-up and measuring.
  const system = await startSystem({ dataDir: join(root, 'system'), patients: DEMO_PATIENTS, httpPort: 0, mqttPort: 0, logLevel: 'warn' });
  await delay(quick ? 5_000 : 20_000);
  const status = [...system.gateways.values()].map((child) => readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  const mb = (text: string, key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1]) / 1024;
  report(
    `whole gateway, start command build: peak RSS (VmHWM), max of ${status.length} (MB)`,
    Math.max(...status.map((t) => mb(t, 'VmHWM'))).toFixed(1),
  );
  report(
    `whole gateway, start command build: RSS now, max of ${status.length} (MB)`,
    Math.max(...status.map((t) => mb(t, 'VmRSS'))).toFixed(1),
  );
  await system.stop();
}

report('load average (1 min) at the end, on this 2-core machine', loadavg()[0]!.toFixed(1));
console.log(JSON.stringify({ quick, figures }, null, 2));
rmSync(root, { recursive: true, force: true });
