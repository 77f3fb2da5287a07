/** Messages between the relay and the spool's writer thread (spool-thread.ts, durable-spool.ts). */
import type { HistoryStoreConfig } from '../store/index.ts';
import type { SpoolOp, SpoolOpResult } from './spool.ts';

/** Drain settings for a thread that also moves the spool into the history store. */
export interface ThreadDrainConfig {
  /** Built in the thread; an InfluxDB `reader` instance cannot cross threads and is left out. */
  store: HistoryStoreConfig;
  batchSize: number;
  maxBatchRows?: number;
  concurrency?: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

export interface SpoolThreadData {
  path: string;
  drain?: ThreadDrainConfig;
}

export type SpoolCall =
  | { type: 'commit'; ops: SpoolOp[] }
  | { type: 'remove'; ids: number[] }
  | { type: 'prune'; beforeMs: number }
  | { type: 'drainStop'; deadlineMs: number }
  | { type: 'close' };

export type SpoolRequest = SpoolCall & { id: number };

/**
 * id 0 answers the thread's start: the spool file opened (and the store
 * built), or why not. Every answer carries the spool's depth as the writer
 * counts it after the request.
 */
export type SpoolResponse =
  | { id: number; ok: true; result: SpoolOpResult[] | number | { left: number } | null; depth: number }
  | { id: number; ok: false; message: string; depth: number };

/** What a draining thread reports on its own: store writes, failures, log lines, what was stored. */
export type DrainEvent =
  | { event: 'write'; op: 'readings' | 'alarms'; seconds: number }
  | { event: 'failure'; failuresInARow: number }
  | { event: 'recovered' }
  | { event: 'log'; level: 'info' | 'warn' | 'error'; obj: object; msg: string }
  /** `storedAt`: when the store acknowledged, on the thread's clock, not when the relay's busy loop got round to this event. */
  | { event: 'stored'; times: Float64Array; storedAt: number }
  | { event: 'depth'; depth: number };
