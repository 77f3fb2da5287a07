/**
 * The relay under test in its own process, so the benchmark's clock and
 * reports keep running when the relay is overloaded, and its CPU and memory
 * are its own. Started by relay.bench.ts with child_process.fork; reports
 * over IPC.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { pino } from 'pino';
import { type Relay, startRelay } from '../../cloud-relay/relay.ts';
import { LatencyHistogram } from './histogram.ts';
import type { SparseHistogram } from './wire.ts';

export interface RelayProcessPlan {
  dataDir: string;
  influxUrl: string;
  database: string;
  drainBatch: number;
  logLevel: string;
}

export type RelayProcessCommand = { type: 'start'; plan: RelayProcessPlan } | { type: 'stop'; drainDeadlineMs: number };

export type RelayProcessReport =
  | { type: 'ready'; httpUrl: string; mqttUrl: string; adminToken: string }
  | {
      type: 'stats';
      stored: number;
      spoolDepth: number;
      storeFailuresInARow: number;
      latency: SparseHistogram;
      storeWrites: StoreWrites;
      /** The broker's event loop since the last report: longest delay, and garbage-collection pauses. */
      loop: LoopReport;
    }
  | { type: 'closed'; spoolLeft: number; stored: number }
  | { type: 'error'; message: string };

/** The relay's reading-write latency histogram so far (cumulative, as Prometheus keeps it). */
export interface StoreWrites {
  count: number;
  sumS: number;
  /** Writes at or under each bound, seconds. */
  buckets: Array<[number, number]>;
}

export interface LoopReport {
  delayMaxMs: number;
  gcMaxMs: number;
  gcTotalMs: number;
}

// Where the latency tail comes from: a stalled event loop delays every PUBACK behind it.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const gc = { maxMs: 0, totalMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    gc.totalMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

function takeLoopReport(): LoopReport {
  const report = { delayMaxMs: loopDelay.max / 1e6, gcMaxMs: gc.maxMs, gcTotalMs: gc.totalMs };
  loopDelay.reset();
  gc.maxMs = 0;
  gc.totalMs = 0;
  return report;
}

let relay: Relay | null = null;
/** Readings the history store accepted, and how long after their publish (the simulator stamps t at publish). */
let stored = 0;
const latency = new LatencyHistogram();
let reporter: NodeJS.Timeout | null = null;

const send = (report: RelayProcessReport) => process.send?.(report);

async function storeWrites(r: Relay): Promise<StoreWrites> {
  const { values } = await r.parts.metrics.storeWriteSeconds.get();
  const readings = values.filter((v) => v.labels.op === 'readings');
  const of = (suffix: string) => readings.find((v) => v.metricName?.endsWith(suffix))?.value ?? 0;
  return {
    count: of('_count'),
    sumS: of('_sum'),
    buckets: readings
      .filter((v) => v.metricName?.endsWith('_bucket') && (v.labels as Record<string, unknown>).le !== '+Inf')
      .map((v) => [Number((v.labels as Record<string, unknown>).le), v.value] as [number, number]),
  };
}

async function stats(): Promise<void> {
  if (!relay) return;
  const writes = await storeWrites(relay);
  send({
    type: 'stats',
    stored,
    spoolDepth: relay.parts.spool.depth(),
    storeFailuresInARow: relay.parts.drainer.failuresInARow,
    latency: latency.toSparse(),
    storeWrites: writes,
    loop: takeLoopReport(),
  });
  latency.reset();
}

async function start(plan: RelayProcessPlan): Promise<void> {
  relay = await startRelay({
    dataDir: plan.dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    httpPort: 0,
    // Configured, not an instance: the relay drains on its spool thread, as it does in production.
    store: { influxdb: { url: plan.influxUrl, database: plan.database } },
    onStored: (times, storedAt) => {
      for (const t of times) latency.record(storedAt - t);
      stored += times.length;
    },
    log: pino({ level: plan.logLevel }),
    dashboardDir: false,
    // Every simulated gateway connects from 127.0.0.1; the per-address limit is meant for real networks.
    limits: { connectionsPerWindow: 0 },
    drain: { batchSize: plan.drainBatch, shutdownDeadlineMs: 120_000 },
  });
  reporter = setInterval(() => void stats(), 1000);
  send({ type: 'ready', httpUrl: relay.httpUrl, mqttUrl: relay.mqttUrl, adminToken: relay.adminToken });
}

async function stop(drainDeadlineMs: number): Promise<void> {
  const deadline = Date.now() + drainDeadlineMs;
  while (relay && relay.parts.spool.depth() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (reporter) clearInterval(reporter);
  await stats();
  const spoolLeft = relay?.parts.spool.depth() ?? 0;
  await relay?.close();
  send({ type: 'closed', spoolLeft, stored });
  process.exit(0);
}

process.on('message', (command: RelayProcessCommand) => {
  const fail = (error: unknown) => {
    send({ type: 'error', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  };
  if (command.type === 'start') start(command.plan).catch(fail);
  else if (command.type === 'stop') stop(command.drainDeadlineMs).catch(fail);
});
process.on('disconnect', () => process.exit(0));
