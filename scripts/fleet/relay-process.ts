/**
 * The relay under test in its own process, so the benchmark's clock and
 * reports keep running when the relay is overloaded, and its CPU and memory
 * are its own. Started by relay.bench.ts with child_process.fork; reports
 * over IPC.
 */
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
  | { type: 'stats'; stored: number; spoolDepth: number; storeFailuresInARow: number; latency: SparseHistogram }
  | { type: 'closed'; spoolLeft: number; stored: number }
  | { type: 'error'; message: string };

let relay: Relay | null = null;
/** Readings the history store accepted, and how long after their publish (the simulator stamps t at publish). */
let stored = 0;
const latency = new LatencyHistogram();
let reporter: NodeJS.Timeout | null = null;

const send = (report: RelayProcessReport) => process.send?.(report);

function stats(): void {
  if (!relay) return;
  send({
    type: 'stats',
    stored,
    spoolDepth: relay.parts.spool.depth(),
    storeFailuresInARow: relay.parts.drainer.failuresInARow,
    latency: latency.toSparse(),
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
  reporter = setInterval(stats, 1000);
  send({ type: 'ready', httpUrl: relay.httpUrl, mqttUrl: relay.mqttUrl, adminToken: relay.adminToken });
}

async function stop(drainDeadlineMs: number): Promise<void> {
  const deadline = Date.now() + drainDeadlineMs;
  while (relay && relay.parts.spool.depth() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (reporter) clearInterval(reporter);
  stats();
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
