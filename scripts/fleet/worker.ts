/**
 * A fleet worker process: runs a share of the simulated gateways and reports
 * counters to the parent over IPC. Started by fleet.ts with child_process.fork.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { LatencyHistogram } from './histogram.ts';
import { type GatewayCounters, SimGateway } from './sim-gateway.ts';
import type { ParentMessage, WorkerMessage, WorkerPlan } from './wire.ts';

const counters: GatewayCounters = { published: 0, acked: 0, failed: 0, reconnects: 0 };
const ackLatency = new LatencyHistogram();
let gateways: SimGateway[] = [];
let periodMs = 1000;
let reporter: NodeJS.Timeout | null = null;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function report(final = false): void {
  send({
    type: final ? 'final' : 'stats',
    counters: { ...counters, errors: { ...counters.errors } },
    connected: gateways.filter((g) => g.connected).length,
    inflight: gateways.reduce((n, g) => n + g.inflight, 0),
    ackLatency: ackLatency.toSparse(),
  });
  ackLatency.reset();
}

/** Runs `task` over `items` with at most `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await task(items[index]!, index);
      }
    }),
  );
}

async function start(plan: WorkerPlan): Promise<void> {
  periodMs = plan.periodMs;
  gateways = plan.gateways.map((g) => new SimGateway(g.gatewayId, g.patient, counters, (ms) => ackLatency.record(ms), plan.audience));
  for (const g of gateways) await g.createKeys();
  if (plan.enroll) {
    await pool(gateways, plan.enrollConcurrency, (g) => g.enroll(plan.httpUrl, plan.adminToken));
  }
  send({ type: 'enrolled', count: gateways.length });

  // Connections are paced: a real fleet does not reconnect all at once either, and each costs the relay a signature check.
  const gapMs = 1000 / plan.connectsPerSecond;
  const began = Date.now();
  await pool(gateways, 64, async (g, index) => {
    const wait = began + index * gapMs - Date.now();
    if (wait > 0) await delay(wait);
    await g.connect(plan.mqttUrl);
  });
  send({ type: 'connected', count: gateways.filter((g) => g.connected).length });
  reporter = setInterval(() => report(), 1000);
}

/**
 * One timer for the worker's whole share of the fleet: gateways are spread
 * evenly over the period and kept in that order, and each tick publishes for
 * every gateway whose time has come. (A timer per gateway cost the
 * simulator CPU that the relay under test needs.)
 */
let publisher: NodeJS.Timeout | null = null;

function startPublishing(): void {
  const began = Date.now();
  const due = gateways.map((_, i) => began + (i / gateways.length) * periodMs);
  let next = 0;
  publisher = setInterval(() => {
    const now = Date.now();
    // At most one round per tick, so a stalled process catches up without a burst of a whole period per gateway.
    for (let n = 0; n < gateways.length && (due[next] as number) <= now; n++) {
      gateways[next]!.publishOne();
      due[next] = (due[next] as number) + periodMs;
      next = (next + 1) % gateways.length;
    }
  }, 5);
}

function stopPublishing(): void {
  if (publisher) clearInterval(publisher);
  publisher = null;
}

async function stop(drainMs: number): Promise<void> {
  stopPublishing();
  const deadline = Date.now() + drainMs;
  while (Date.now() < deadline && counters.acked + counters.failed < counters.published) await delay(100);
  if (reporter) clearInterval(reporter);
  report(true);
  await Promise.all(gateways.map((g) => g.disconnect().catch(() => {})));
  process.exit(0);
}

process.on('message', (message: ParentMessage) => {
  const fail = (error: unknown) => {
    send({ type: 'error', message: (error as Error).stack ?? String(error) });
    process.exit(1);
  };
  switch (message.type) {
    case 'start':
      start(message.plan).catch(fail);
      break;
    case 'publish':
      startPublishing();
      break;
    case 'period':
      periodMs = message.periodMs;
      break;
    case 'stop':
      stop(message.drainMs).catch(fail);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
