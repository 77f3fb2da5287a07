/**
 * The fleet simulator: many gateways in a few worker processes, each with a
 * real MQTT connection and real ES256 device tokens, enrolled through the
 * relay's admin and enroll API. Used by `npm run bench:relay` and, through
 * scripts/fleet/main.ts, against any running relay.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LatencyHistogram } from './histogram.ts';
import type { ParentMessage, WorkerMessage, WorkerPlan, WorkerStats } from './wire.ts';

export interface FleetOptions {
  httpUrl: string;
  mqttUrl: string;
  adminToken: string;
  audience?: string;
  gateways: number;
  /** Worker processes; gateways are split evenly. */
  workers: number;
  /** Time between two vitals messages of one gateway (1000 = 1 msg/s). */
  periodMs: number;
  /** New MQTT connections per second, fleet-wide. */
  connectsPerSecond?: number;
  /** Parallel enrollments per worker. */
  enrollConcurrency?: number;
  /** Gateway ids are `<idPrefix>-<n>`; a fresh random prefix by default. */
  idPrefix?: string;
  enroll?: boolean;
  onProgress?: (event: string) => void;
}

export interface FleetTotals {
  published: number;
  acked: number;
  failed: number;
  reconnects: number;
  connected: number;
  inflight: number;
  /** Connection errors by reason, fleet-wide. */
  errors: Record<string, number>;
}

export interface Fleet {
  readonly gatewayIds: readonly string[];
  /** Worker process ids (for CPU/RSS figures). */
  readonly pids: readonly number[];
  publish(): void;
  setPeriod(periodMs: number): void;
  totals(): FleetTotals;
  /** PUBACK latencies reported since the last call. */
  takeAckLatency(): LatencyHistogram;
  /** Stops publishing, waits up to drainMs for outstanding PUBACKs, disconnects. */
  stop(drainMs?: number): Promise<FleetTotals>;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const idPrefix = options.idPrefix ?? `sim-${randomBytes(3).toString('hex')}`;
  const gatewayIds = Array.from({ length: options.gateways }, (_, i) => `${idPrefix}-${i}`);
  const workerCount = Math.max(1, Math.min(options.workers, options.gateways));
  const latest = new Map<number, WorkerStats>();
  const ackLatency = new LatencyHistogram();
  const children: ChildProcess[] = [];
  const finals: Array<Promise<WorkerStats>> = [];
  const progress = options.onProgress ?? (() => {});

  const phase = (child: ChildProcess, wanted: 'enrolled' | 'connected') =>
    new Promise<number>((resolve, reject) => {
      const onMessage = (message: WorkerMessage) => {
        if (message.type === wanted) {
          child.off('message', onMessage);
          resolve(message.count);
        } else if (message.type === 'error') reject(new Error(`fleet worker failed: ${message.message}`));
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`fleet worker exited with ${code} before "${wanted}"`)));
    });

  const enrolled: Array<Promise<number>> = [];
  const connected: Array<Promise<number>> = [];
  for (let w = 0; w < workerCount; w++) {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'stats' || message.type === 'final') {
        latest.set(w, message);
        ackLatency.addSparse(message.ackLatency);
      }
    });
    finals.push(
      new Promise((resolve, reject) => {
        child.on('message', (message: WorkerMessage) => {
          if (message.type === 'final') resolve(message);
        });
        child.once('exit', (code) => reject(new Error(`fleet worker exited with ${code} before its final report`)));
      }),
    );
    finals[w]!.catch(() => {});
    enrolled.push(phase(child, 'enrolled'));
    connected.push(phase(child, 'connected'));
    const ids = gatewayIds.filter((_, i) => i % workerCount === w);
    const plan: WorkerPlan = {
      httpUrl: options.httpUrl,
      mqttUrl: options.mqttUrl,
      adminToken: options.adminToken,
      ...(options.audience ? { audience: options.audience } : {}),
      gateways: ids.map((gatewayId) => ({
        gatewayId,
        patient: { patientId: `patient-${gatewayId}`, displayName: `Simulated ${gatewayId}`, bed: `bed-${gatewayId.slice(-12)}` },
      })),
      enroll: options.enroll ?? true,
      enrollConcurrency: options.enrollConcurrency ?? 16,
      connectsPerSecond: (options.connectsPerSecond ?? 500) / workerCount,
      periodMs: options.periodMs,
    };
    child.send({ type: 'start', plan } satisfies ParentMessage);
  }
  const sendAll = (message: ParentMessage) => {
    for (const child of children) if (child.connected) child.send(message);
  };
  const totals = (): FleetTotals => {
    const sum: FleetTotals = { published: 0, acked: 0, failed: 0, reconnects: 0, connected: 0, inflight: 0, errors: {} };
    for (const s of latest.values()) {
      sum.published += s.counters.published;
      sum.acked += s.counters.acked;
      sum.failed += s.counters.failed;
      sum.reconnects += s.counters.reconnects;
      sum.connected += s.connected;
      sum.inflight += s.inflight;
      for (const [reason, n] of Object.entries(s.counters.errors ?? {})) sum.errors[reason] = (sum.errors[reason] ?? 0) + n;
    }
    return sum;
  };

  try {
    progress(`enrolled ${(await Promise.all(enrolled)).reduce((a, b) => a + b, 0)} gateways`);
    progress(`connected ${(await Promise.all(connected)).reduce((a, b) => a + b, 0)} gateways`);
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    throw error;
  }

  return {
    gatewayIds,
    pids: children.map((c) => c.pid ?? 0),
    publish: () => sendAll({ type: 'publish' }),
    setPeriod: (periodMs) => sendAll({ type: 'period', periodMs }),
    totals,
    takeAckLatency() {
      const taken = new LatencyHistogram(ackLatency.ceilingMs);
      taken.addSparse(ackLatency.toSparse());
      ackLatency.reset();
      return taken;
    },
    async stop(drainMs = 30_000) {
      sendAll({ type: 'stop', drainMs });
      const results = await Promise.allSettled(finals);
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      results.forEach((r, w) => {
        if (r.status === 'fulfilled') latest.set(w, r.value);
      });
      return totals();
    },
  };
}
