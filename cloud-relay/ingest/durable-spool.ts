/**
 * The relay's spool as ingest, drainer and HTTP see it. Writes (group
 * commits, deletes after a store write, dedupe pruning) go to one writer: a
 * worker thread by default, so the broker's event loop never waits on an
 * fsync or on SQLite, or the calling thread (`thread: false`, and always for
 * `:memory:`). Reads (peek, gaps, quarantine) use a connection of their own
 * on this thread: in WAL mode a reader sees committed transactions only and
 * never blocks the writer.
 */
import { Worker } from 'node:worker_threads';
import type { SpoolDrain } from './drainer.ts';
import { Spool, type SpoolOp, type SpoolOpResult, type SpoolRow, SpoolWriteError } from './spool.ts';
import type { DrainEvent, SpoolCall, SpoolRequest, SpoolResponse, SpoolThreadData, ThreadDrainConfig } from './spool-wire.ts';

interface SpoolWriter {
  commit(ops: SpoolOp[]): Promise<SpoolOpResult[]>;
  remove(ids: number[]): Promise<number>;
  pruneSeen(beforeMs: number): Promise<number>;
  /** Rows in the spool as the writer counts them (it sees every write, in order). */
  readonly depth: number;
  readonly alive: boolean;
  close(): Promise<void>;
}

/** Writes on the calling thread (tests, `:memory:`). */
class InlineWriter implements SpoolWriter {
  constructor(private readonly spool: Spool) {}
  async commit(ops: SpoolOp[]): Promise<SpoolOpResult[]> {
    return this.spool.apply(ops);
  }
  async remove(ids: number[]): Promise<number> {
    return this.spool.remove(ids);
  }
  async pruneSeen(beforeMs: number): Promise<number> {
    return this.spool.pruneSeen(beforeMs);
  }
  get depth(): number {
    return this.spool.depth();
  }
  get alive(): boolean {
    return this.spool.open;
  }
  async close(): Promise<void> {
    this.spool.close();
  }
}

type Waiter = { resolve: (result: unknown) => void; reject: (error: Error) => void };

/** Writes on a worker thread that owns the committing connection (spool-thread.ts). */
class ThreadWriter implements SpoolWriter {
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private failure: Error | null = null;
  depth: number;

  private constructor(
    private readonly worker: Worker,
    initialDepth: number,
    onEvent: (event: DrainEvent) => void,
  ) {
    this.depth = initialDepth;
    worker.on('message', (message: SpoolResponse | DrainEvent) => {
      if ('event' in message) {
        if (message.event === 'depth') this.depth = message.depth;
        onEvent(message);
        return;
      }
      const response = message;
      this.depth = response.depth;
      const waiter = this.waiting.get(response.id);
      if (!waiter) return;
      this.waiting.delete(response.id);
      if (response.ok) waiter.resolve(response.result);
      else waiter.reject(new SpoolWriteError(response.message));
    });
    worker.on('error', (error) => this.fail(new SpoolWriteError(`spool writer thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.fail(new SpoolWriteError(`spool writer thread exited (code ${code})`)));
  }

  /** Resolves once the thread has opened the spool file (and built the store it drains into). */
  static start(data: SpoolThreadData, onEvent: (event: DrainEvent) => void): Promise<ThreadWriter> {
    const { path } = data;
    const worker = spoolThread(data);
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(new SpoolWriteError(`spool writer thread did not start: ${error.message}`, { cause: error }));
      worker.once('error', onError);
      worker.once('message', (response: SpoolResponse) => {
        worker.off('error', onError);
        if (response.ok) resolve(new ThreadWriter(worker, response.depth, onEvent));
        else reject(new SpoolWriteError(`spool writer thread could not open ${path}: ${response.message}`));
      });
    });
  }

  commit(ops: SpoolOp[]): Promise<SpoolOpResult[]> {
    return this.call({ type: 'commit', ops }) as Promise<SpoolOpResult[]>;
  }
  remove(ids: number[]): Promise<number> {
    return this.call({ type: 'remove', ids }) as Promise<number>;
  }
  pruneSeen(beforeMs: number): Promise<number> {
    return this.call({ type: 'prune', beforeMs }) as Promise<number>;
  }
  /** Stops the thread's drain loop, first draining until the spool is empty or the deadline passes. */
  stopDrain(deadlineMs: number): Promise<{ left: number }> {
    return this.call({ type: 'drainStop', deadlineMs }) as Promise<{ left: number }>;
  }
  get alive(): boolean {
    return this.failure === null;
  }

  async close(): Promise<void> {
    if (this.failure) return;
    await this.call({ type: 'close' }).catch(() => {});
    await this.worker.terminate();
  }

  private call(request: SpoolCall): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } as SpoolRequest);
    });
  }

  /** Nothing waiting will be answered: every waiter learns its write is not durable. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
  }
}

/** The writer thread; under tsx (development and tests) it needs the TypeScript loader as well. */
function spoolThread(workerData: SpoolThreadData): Worker {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './spool-thread.ts' : './spool-thread.js', import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** The drain loop on the writer thread, as the relay drives it: it runs from the start and kicks itself after each commit. */
class ThreadDrain implements SpoolDrain {
  failuresInARow = 0;
  constructor(private readonly writer: ThreadWriter) {}
  start(): void {}
  kick(): void {}
  async stop(drainDeadlineMs = 0): Promise<{ left: number }> {
    if (!this.writer.alive) return { left: this.writer.depth };
    return this.writer.stopDrain(drainDeadlineMs);
  }
}

export interface DurableSpoolOptions {
  /** Commit on a worker thread (default). `:memory:` always commits on the calling thread. */
  thread?: boolean;
  /** With `thread`: the thread also drains the spool into the history store this configures. */
  drain?: ThreadDrainConfig;
  /** What the draining thread reports: store writes and failures, log lines, readings stored. */
  onDrainEvent?: (event: DrainEvent) => void;
}

export class DurableSpool {
  private closed = false;

  private constructor(
    private readonly reader: Spool,
    private readonly writer: SpoolWriter,
    /** The drain loop running on the writer thread, when `drain` was configured; null otherwise. */
    readonly threadDrain: SpoolDrain | null = null,
  ) {}

  static async open(path: string, options: DurableSpoolOptions = {}): Promise<DurableSpool> {
    // The reader opens first and creates the schema, so the writer thread never races it.
    const reader = new Spool(path);
    if (options.thread === false || path === ':memory:') {
      if (options.drain) throw new Error('a draining spool thread needs thread: true and a spool file');
      return new DurableSpool(reader, new InlineWriter(reader));
    }
    let drain: ThreadDrain | null = null;
    const onEvent = (event: DrainEvent) => {
      if (drain && event.event === 'failure') drain.failuresInARow = event.failuresInARow;
      if (drain && event.event === 'recovered') drain.failuresInARow = 0;
      options.onDrainEvent?.(event);
    };
    try {
      const writer = await ThreadWriter.start({ path, ...(options.drain ? { drain: options.drain } : {}) }, onEvent);
      drain = options.drain ? new ThreadDrain(writer) : null;
      return new DurableSpool(reader, writer, drain);
    } catch (error) {
      reader.close();
      throw error;
    }
  }

  /**
   * Commits `ops` in one transaction (one fsync) and resolves once they are
   * durable, one result per op. Rejects with SpoolWriteError, keeping none of
   * them, when they could not be made durable.
   */
  async commit(ops: SpoolOp[]): Promise<SpoolOpResult[]> {
    if (this.closed) throw new SpoolWriteError('spool is closed');
    try {
      return await this.writer.commit(ops);
    } catch (error) {
      throw error instanceof SpoolWriteError
        ? error
        : new SpoolWriteError(`spool write failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Oldest first; only messages of `kind` when given. */
  peek(limit: number, kind?: SpoolRow['kind']): SpoolRow[] {
    return this.reader.peek(limit, kind);
  }

  peekAfter(afterId: number, limit: number): SpoolRow[] {
    return this.reader.peekAfter(afterId, limit);
  }

  /** Deletes rows the history store has accepted. */
  async remove(ids: number[]): Promise<void> {
    await this.writer.remove(ids);
  }

  /** Forgets msgIds older than `beforeMs`: the dedupe window. */
  pruneSeen(beforeMs: number): Promise<number> {
    return this.writer.pruneSeen(beforeMs);
  }

  /** Messages waiting for the history store, as of the last write answered. */
  depth(): number {
    return this.writer.depth;
  }

  gaps(gatewayId: string): ReturnType<Spool['gaps']> {
    return this.reader.gaps(gatewayId);
  }

  quarantined(limit?: number): ReturnType<Spool['quarantined']> {
    return this.reader.quarantined(limit);
  }

  get open(): boolean {
    return !this.closed && this.reader.open && this.writer.alive;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    this.reader.close();
  }
}
