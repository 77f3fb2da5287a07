/** Requests to the spool's writer thread and its answers (spool-thread.ts, durable-spool.ts). */
import type { SpoolOp, SpoolOpResult } from './spool.ts';

export type SpoolCall =
  | { type: 'commit'; ops: SpoolOp[] }
  | { type: 'remove'; ids: number[] }
  | { type: 'prune'; beforeMs: number }
  | { type: 'close' };

export type SpoolRequest = SpoolCall & { id: number };

/**
 * id 0 answers the thread's start: the spool file opened, or why not. Every
 * answer carries the spool's depth as the writer counts it after the request.
 */
export type SpoolResponse =
  | { id: number; ok: true; result: SpoolOpResult[] | number | null; depth: number }
  | { id: number; ok: false; message: string; depth: number };
