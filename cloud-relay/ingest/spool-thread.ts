/**
 * The spool's writer thread: owns the connection that commits, so the fsync
 * and SQLite work of every group commit, every delete after a store write
 * and the dedupe pruning run beside the broker's event loop instead of on
 * it. Started by durable-spool.ts; answers each request in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Spool } from './spool.ts';
import type { SpoolRequest, SpoolResponse } from './spool-wire.ts';

const port = parentPort;
if (!port) throw new Error('spool-thread.ts runs as a worker thread');

let spool: Spool;
try {
  spool = new Spool((workerData as { path: string }).path);
  port.postMessage({ id: 0, ok: true, result: null, depth: spool.depth() } satisfies SpoolResponse);
} catch (error) {
  port.postMessage({ id: 0, ok: false, message: (error as Error).message, depth: 0 } satisfies SpoolResponse);
  process.exit(1);
}

function run(request: SpoolRequest): Extract<SpoolResponse, { ok: true }>['result'] {
  switch (request.type) {
    case 'commit':
      return spool.apply(request.ops);
    case 'remove':
      return spool.remove(request.ids);
    case 'prune':
      return spool.pruneSeen(request.beforeMs);
    case 'close':
      spool.close();
      return null;
  }
}

port.on('message', (request: SpoolRequest) => {
  let response: SpoolResponse;
  try {
    const result = run(request);
    response = { id: request.id, ok: true, result, depth: spool.open ? spool.depth() : 0 };
  } catch (error) {
    response = { id: request.id, ok: false, message: (error as Error).message, depth: spool.open ? spool.depth() : 0 };
  }
  port.postMessage(response);
  if (request.type === 'close') port.close();
});
