/**
 * The spool's writer thread: owns the connection that commits, so the fsync
 * and SQLite work of every group commit, every delete after a store write
 * and the dedupe pruning run beside the broker's event loop instead of on
 * it. With a store configured it also drains the spool into the history
 * store, so storage keeps moving however busy the broker is. Started by
 * durable-spool.ts; answers each request in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../clock.ts';
import { createHistoryStore, type HistoryStore } from '../store/index.ts';
import { type DrainerLog, type DrainerMetrics, SpoolDrainer } from './drainer.ts';
import { Spool } from './spool.ts';
import type { DrainEvent, SpoolRequest, SpoolResponse, SpoolThreadData } from './spool-wire.ts';

const port = parentPort;
if (!port) throw new Error('spool-thread.ts runs as a worker thread');
const { path, drain } = workerData as SpoolThreadData;

const post = (event: DrainEvent) => port.postMessage(event);

const log: DrainerLog = {
  info: (obj, msg) => post({ event: 'log', level: 'info', obj, msg }),
  warn: (obj, msg) => post({ event: 'log', level: 'warn', obj, msg }),
  error: (obj, msg) => post({ event: 'log', level: 'error', obj, msg }),
};

let failures = 0;
const metrics: DrainerMetrics = {
  storeWriteSeconds: {
    startTimer: ({ op }) => {
      const began = performance.now();
      return () => {
        post({ event: 'write', op, seconds: (performance.now() - began) / 1000 });
        if (failures > 0) post({ event: 'recovered' });
        failures = 0;
      };
    },
  },
  storeWriteFailures: {
    inc: () => {
      failures++;
      post({ event: 'failure', failuresInARow: failures });
    },
  },
};

let spool: Spool;
let store: HistoryStore | null = null;
let drainer: SpoolDrainer | null = null;
try {
  spool = new Spool(path);
  if (drain) {
    store = await createHistoryStore(drain.store);
    drainer = new SpoolDrainer({
      // Rows drained here leave the depth the relay shows without a request: tell it.
      spool: {
        peek: (limit) => spool.peek(limit),
        peekAfter: (afterId, limit) => spool.peekAfter(afterId, limit),
        depth: () => spool.depth(),
        remove: (ids) => {
          spool.remove(ids);
          post({ event: 'depth', depth: spool.depth() });
        },
      },
      store,
      clock: systemClock,
      metrics,
      log,
      batchSize: drain.batchSize,
      ...(drain.maxBatchRows ? { maxBatchRows: drain.maxBatchRows } : {}),
      ...(drain.concurrency ? { concurrency: drain.concurrency } : {}),
      minBackoffMs: drain.minBackoffMs,
      maxBackoffMs: drain.maxBackoffMs,
      onStored: (readings) => {
        const storedAt = systemClock.now();
        const times = new Float64Array(readings.length);
        readings.forEach((r, i) => {
          times[i] = r.t;
        });
        port.postMessage({ event: 'stored', times, storedAt } satisfies DrainEvent, [times.buffer]);
      },
    });
    drainer.start();
  }
  port.postMessage({ id: 0, ok: true, result: null, depth: spool.depth() } satisfies SpoolResponse);
} catch (error) {
  port.postMessage({ id: 0, ok: false, message: (error as Error).message, depth: 0 } satisfies SpoolResponse);
  process.exit(1);
}

async function closeStore(): Promise<void> {
  const open = store;
  store = null;
  await open?.close();
}

async function run(request: SpoolRequest): Promise<Extract<SpoolResponse, { ok: true }>['result']> {
  switch (request.type) {
    case 'commit': {
      const results = spool.apply(request.ops);
      drainer?.kick();
      return results;
    }
    case 'remove':
      return spool.remove(request.ids);
    case 'prune':
      return spool.pruneSeen(request.beforeMs);
    case 'drainStop': {
      const left = drainer ? await drainer.stop(request.deadlineMs) : { left: spool.depth() };
      await closeStore();
      return left;
    }
    case 'close':
      await drainer?.stop();
      await closeStore();
      spool.close();
      return null;
  }
}

port.on('message', (request: SpoolRequest) => {
  const answer = (response: SpoolResponse) => {
    port.postMessage(response);
    if (request.type === 'close') port.close();
  };
  run(request).then(
    (result) => answer({ id: request.id, ok: true, result, depth: spool.open ? spool.depth() : 0 }),
    (error: unknown) => answer({ id: request.id, ok: false, message: (error as Error).message, depth: spool.open ? spool.depth() : 0 }),
  );
});
