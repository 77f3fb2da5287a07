/**
 * Moves spooled messages into the history store in batches. A batch leaves
 * the spool only after the store accepted it; while the store fails, the
 * drainer backs off exponentially and the spool grows. Stores do not retry
 * themselves (cloud-relay/store/history-store.ts), so this is the one place
 * retries happen.
 */
import type { AlarmsMessage, VitalsMessage } from '../../protocol/schemas.ts';
import type { Clock } from '../clock.ts';
import { type HistoryStore, HistoryStoreError, type StoredAlarmEvent, type StoredReading } from '../store/history-store.ts';
import type { SpoolRow } from './spool.ts';

/** What the drainer reads from and deletes in: the relay's DurableSpool, or the writer thread's own Spool. */
export interface DrainSource {
  peek(limit: number): SpoolRow[];
  peekAfter(afterId: number, limit: number): SpoolRow[];
  /** May answer later (a spool whose writes go to another thread). */
  remove(ids: number[]): unknown;
  depth(): number;
}

/** The two relay metrics the drainer feeds (prom-client's Histogram and Counter fit). */
export interface DrainerMetrics {
  storeWriteSeconds: { startTimer(labels: { op: 'readings' | 'alarms' }): () => unknown };
  storeWriteFailures: { inc(): void };
}

/** The drainer's log lines (a pino Logger fits). */
export interface DrainerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The drain loop as the relay drives it, wherever it runs (here, or on the spool's writer thread). */
export interface SpoolDrain {
  start(): void;
  kick(): void;
  stop(drainDeadlineMs?: number): Promise<{ left: number }>;
  readonly failuresInARow: number;
}

export interface DrainerOptions {
  spool: DrainSource;
  store: HistoryStore;
  clock: Clock;
  metrics: DrainerMetrics;
  log: DrainerLog;
  /** After the store accepted readings: what was stored, for latency figures. */
  onStored?: (readings: readonly StoredReading[]) => void;
  /** Spool rows (messages) per store batch while the drainer keeps up. */
  batchSize?: number;
  /**
   * Most rows per batch while catching up: a deep spool goes out in bigger
   * batches, so storage keeps pace when the event loop gives the drainer few
   * turns. Default 10 × batchSize.
   */
  maxBatchRows?: number;
  /** Payload bytes at which a catch-up batch stops growing (replayed messages can hold 600 readings each). */
  maxBatchBytes?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Store writes in flight at once while the store is healthy (default 1).
   * With 2, the next batch is read and sent while the store is still taking
   * the previous one, so a busy store adds less to publish → stored.
   */
  concurrency?: number;
}

/** Turns spool rows into store points; rows are validated payloads, so parsing cannot fail short of disk corruption. */
export function toStorePoints(rows: readonly SpoolRow[]): { readings: StoredReading[]; events: StoredAlarmEvent[] } {
  const readings: StoredReading[] = [];
  const events: StoredAlarmEvent[] = [];
  for (const row of rows) {
    const message = JSON.parse(row.payload) as VitalsMessage | AlarmsMessage;
    if (message.type === 'vitals') {
      for (const r of message.readings) {
        readings.push({
          gatewayId: row.gatewayId,
          patientId: row.patientId,
          t: r.t,
          clockQuality: message.clock.quality,
          hr: r.hr,
          spo2: r.spo2,
          pi: r.pi,
          sqi: r.sqi,
        });
      }
    } else if (message.type === 'alarms') {
      for (const e of message.events) events.push({ ...e, gatewayId: row.gatewayId, patientId: row.patientId });
    }
  }
  return { readings, events };
}

export class SpoolDrainer implements SpoolDrain {
  private readonly batchSize: number;
  private readonly maxBatchRows: number;
  private readonly maxBatchBytes: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private backoffMs: number;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private cancelTimer: (() => void) | null = null;
  private consecutiveFailures = 0;
  private readonly concurrency: number;
  /** Highest spool id handed to a store write still in flight; 0 when none is. */
  private cursor = 0;

  constructor(private readonly opts: DrainerOptions) {
    this.batchSize = opts.batchSize ?? 200;
    this.maxBatchRows = Math.max(this.batchSize, opts.maxBatchRows ?? 10 * this.batchSize);
    this.maxBatchBytes = opts.maxBatchBytes ?? 4 * 1024 * 1024;
    this.minBackoffMs = opts.minBackoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.backoffMs = this.minBackoffMs;
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  }

  /** Failed store batches in a row; 0 when the store is keeping up. */
  get failuresInARow(): number {
    return this.consecutiveFailures;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was spooled: wake up if idle (a backoff wait is not cut short). */
  kick(): void {
    if (!this.cancelTimer) this.wakeUp();
  }

  /**
   * Writes one batch. Returns the number of spool rows removed, 0 when the
   * spool is empty; throws when the store refused the batch.
   */
  async drainOnce(): Promise<number> {
    return this.write(this.nextBatch(0));
  }

  private async write(rows: SpoolRow[]): Promise<number> {
    const { spool, store, metrics } = this.opts;
    if (rows.length === 0) return 0;
    const { readings, events } = toStorePoints(rows);
    if (readings.length > 0) {
      const end = metrics.storeWriteSeconds.startTimer({ op: 'readings' });
      await store.writeReadings(readings);
      end();
      this.opts.onStored?.(readings);
    }
    if (events.length > 0) {
      const end = metrics.storeWriteSeconds.startTimer({ op: 'alarms' });
      await store.writeAlarmEvents(events);
      end();
    }
    await spool.remove(rows.map((r) => r.id));
    return rows.length;
  }

  /** The oldest rows: one batchSize, or more while the spool is deep, up to maxBatchRows and maxBatchBytes. */
  private nextBatch(after: number): SpoolRow[] {
    const { spool } = this.opts;
    const rows = after > 0 ? spool.peekAfter(after, this.batchSize) : spool.peek(this.batchSize);
    let bytes = rows.reduce((n, r) => n + r.payload.length, 0);
    let full = rows.length === this.batchSize;
    while (full && rows.length < this.maxBatchRows && bytes < this.maxBatchBytes) {
      const want = Math.min(this.batchSize, this.maxBatchRows - rows.length);
      const more = spool.peekAfter(rows[rows.length - 1]!.id, want);
      for (const row of more) {
        rows.push(row);
        bytes += row.payload.length;
      }
      full = more.length === want;
    }
    return rows;
  }

  /**
   * Stops the loop. With a deadline, first keeps draining until the spool is
   * empty or the deadline passes; what is left stays in the spool on disk.
   */
  async stop(drainDeadlineMs = 0): Promise<{ left: number }> {
    this.running = false;
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.wakeUp();
    await this.loop;
    this.loop = null;
    if (drainDeadlineMs > 0) {
      const deadline = this.opts.clock.now() + drainDeadlineMs;
      while (this.opts.spool.depth() > 0 && this.opts.clock.now() < deadline) {
        try {
          if ((await this.drainOnce()) === 0) break;
        } catch (error) {
          this.opts.log.warn({ err: error }, 'history store refused a batch during shutdown; the rest stays in the spool');
          break;
        }
      }
    }
    return { left: this.opts.spool.depth() };
  }

  private async run(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    let moved = 0;
    while (this.running) {
      // Start writes up to the concurrency (one while the store is failing), each on the rows after the last one's.
      const lanes = this.consecutiveFailures > 0 ? 1 : this.concurrency;
      while (this.running && failure === null && inFlight.size < lanes) {
        let rows: SpoolRow[];
        try {
          rows = this.nextBatch(this.cursor);
        } catch (error) {
          // The spool could not be read: a failure like a refused write, retried after the backoff.
          failure = error;
          break;
        }
        if (rows.length === 0) break;
        this.cursor = rows[rows.length - 1]!.id;
        const lane: Promise<void> = this.write(rows).then(
          (n) => {
            moved += n;
            if (this.consecutiveFailures > 0) {
              this.opts.log.info({ failures: this.consecutiveFailures }, 'history store accepts writes again');
              this.consecutiveFailures = 0;
              this.backoffMs = this.minBackoffMs;
            }
          },
          (error: unknown) => {
            failure ??= error;
          },
        );
        inFlight.add(lane);
        lane.finally(() => inFlight.delete(lane));
      }
      if (inFlight.size > 0) {
        await Promise.race(inFlight);
        // After a failure, let the other writes finish, then read again from the oldest row left.
        if (failure === null) continue;
        await Promise.all(inFlight);
      }
      this.cursor = 0;
      if (failure !== null) {
        const error = failure;
        failure = null;
        moved = 0;
        this.consecutiveFailures++;
        this.opts.metrics.storeWriteFailures.inc();
        const context = { err: error, backoffMs: this.backoffMs, spoolDepth: this.opts.spool.depth(), failures: this.consecutiveFailures };
        // A refusal that cannot succeed on retry (bad credentials, a field-type conflict) holds the spool until
        // someone fixes the cause; nothing is discarded, so it is an error for an operator to see.
        if (error instanceof HistoryStoreError && !error.retryable)
          this.opts.log.error(context, 'history store refused a batch; the spool holds it');
        else this.opts.log.warn(context, 'history store write failed; retrying');
        await this.sleep(this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
        continue;
      }
      if (moved === 0 && this.running) await this.idle();
      moved = 0;
    }
    // Stopping: the writes in flight finish before anything else may read the spool.
    await Promise.all(inFlight);
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.cancelTimer = this.opts.clock.setTimer(ms, () => {
        this.cancelTimer = null;
        this.wakeUp();
      });
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
