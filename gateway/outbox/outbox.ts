/**
 * The gateway's store-and-forward outbox (docs/RELIABILITY.md).
 *
 * - Every reading, alarm event and config ack is committed (WAL, synchronous=FULL,
 *   so fsynced) before `enqueue*` returns, and deleted only when the uplink
 *   reports the broker's PUBACK through `ack`.
 * - One row is one wire message, built when enqueued: msgId, per-kind seq
 *   (persisted, so it continues across restarts) and clock quality are fixed
 *   then, so a message re-sent after a crash is the same message and the relay
 *   dedupes it by (gatewayId, msgId).
 * - `take` hands out messages in replay order: alarm events, then config acks,
 *   then vitals, oldest first within each class.
 * - A byte and row budget is enforced by evicting the least valuable first:
 *   thin old vitals to per-minute aggregates, then drop the oldest vitals, then
 *   config acks, alarm events last. Messages in flight are never evicted.
 */

import { validate } from '../../protocol/codec.ts';
import { newId } from '../../protocol/ids.ts';
import type { AlarmEvent, ClockQuality, Reading } from '../../protocol/schemas.ts';
import {
  MAX_ALARM_EVENTS_PER_MESSAGE,
  MAX_READINGS_PER_MESSAGE,
  PAYLOAD_LIMITS,
  SCHEMA_VERSION,
  VITALS_UNITS,
} from '../../protocol/schemas.ts';
import { topicFor } from '../../protocol/topics.ts';
import type { GatewayClock } from '../clock/index.ts';
import {
  isDiskFullError,
  isUnusableFileError,
  moveAside,
  type OpenedDatabase,
  type OutboxLog,
  openOutboxDatabase,
  type SqliteDatabase,
} from './database.ts';
import { thinToMinutes } from './thinning.ts';

export type { OutboxLog };

export type OutboxKind = 'vitals' | 'alarms' | 'config-ack';

/** Row classes; also the eviction order, reversed (see docs/RELIABILITY.md). */
export const CLASS = { alarms: 0, configAck: 1, vitals: 2, vitalsThinned: 3 } as const;

export interface OutboxBudget {
  /** Bytes of stored messages (payload + per-row overhead) the outbox may hold. */
  maxBytes: number;
  maxRows: number;
  /** Fill fraction at which `stats().nearlyFull` turns on (feeds the technical alarm). */
  nearlyFullAt: number;
  /** Eviction, once triggered, frees space down to this fraction so it does not run on every enqueue. */
  evictTo: number;
}

/**
 * 24 h of 1 Hz vitals take about 16 MB (docs/BENCHMARKS.md); 48 MiB holds
 * about three days of outage before thinning starts.
 */
export const DEFAULT_BUDGET: OutboxBudget = { maxBytes: 48 * 1024 * 1024, maxRows: 300_000, nearlyFullAt: 0.8, evictTo: 0.9 };

/** Per-row bytes beyond the body: ids, seq, t, index entry, page slack (measured, docs/BENCHMARKS.md). */
export const ROW_OVERHEAD_BYTES = 48;

export interface OutboxOptions {
  path: string;
  gatewayId: string;
  clock: GatewayClock;
  budget?: Partial<OutboxBudget>;
  log?: OutboxLog;
  /** Caps the database file (SQLite max_page_count): tests use it to emulate a full disk. */
  maxPageCount?: number;
  /**
   * 'FULL' (default): each enqueue is fsynced before it returns, so it survives a power cut.
   * 'NORMAL': survives kill -9 (the WAL is in the OS cache) but a power cut may lose the last
   * commits; only for bulk loads such as benchmarks.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

export interface EvictionCounts {
  /** Vitals messages merged away into per-minute aggregates. */
  vitalsThinned: number;
  vitalsDropped: number;
  configAcksDropped: number;
  alarmsDropped: number;
}

export interface OutboxStats {
  rows: number;
  bytes: number;
  /** Every message removed without a PUBACK, since the outbox was created. */
  evicted: number;
  evictedBy: EvictionCounts;
  /** 0..1 of the budget (the larger of the byte and row fractions). */
  fill: number;
  nearlyFull: boolean;
  inFlight: number;
  /** Messages deleted after their PUBACK, since this process started. */
  acked: number;
  /** Inputs refused by validation, since this process started. */
  rejected: number;
  /** False when no database file could be opened and the outbox lives in memory. */
  durable: boolean;
  recoveredFromCorruption?: boolean;
  movedAsideTo?: string;
  /** The last enqueue failed because the disk (or the file cap) is full even after eviction. */
  diskFull: boolean;
}

export interface Envelope {
  v: typeof SCHEMA_VERSION;
  msgId: string;
  gatewayId: string;
  seq: number;
  clock: { quality: ClockQuality; bootId: string };
}

export interface OutboxEntry {
  id: number;
  kind: OutboxKind;
  topic: string;
  msgId: string;
  seq: number;
  payload: Buffer;
}

export interface ConfigAck {
  configVersion: number;
  accepted: boolean;
  reason?: string;
}

export class OutboxInputError extends Error {
  override name = 'OutboxInputError';
}

export class OutboxStorageError extends Error {
  override name = 'OutboxStorageError';
}

interface PendingRow {
  cls: number;
  kind: OutboxKind;
  msgId: string;
  seq: number;
  t: number;
  body: string;
  /** Keep this id (thinning replaces a group of rows in place, so replay order holds). */
  id?: number;
}

interface StoredRow {
  id: number;
  class: number;
  msg_id: string;
  seq: number;
  synced: number;
  boot: number;
  t: number;
  bytes: number;
  body: string;
}

const KIND_OF_CLASS: readonly OutboxKind[] = ['alarms', 'config-ack', 'vitals', 'vitals'];
const UNITS_JSON = JSON.stringify(VITALS_UNITS);
/** Room left in a message for the envelope around the readings or events. */
const ENVELOPE_ROOM = 512;
const THIN_CHUNK_ROWS = 3600;
const DROP_CHUNK_ROWS = 1000;

const consoleLog: OutboxLog = {
  info: (obj, msg) => console.info(msg, obj),
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/** Splits items so each chunk stays within `maxItems` and about `maxBytes` of JSON. */
function chunk<T>(items: readonly T[], maxItems: number, maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const itemBytes = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (current.length > 0 && (current.length >= maxItems || size + itemBytes > maxBytes)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += itemBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export class Outbox {
  private db!: SqliteDatabase;
  private readonly gatewayId: string;
  private readonly clock: GatewayClock;
  private readonly budget: OutboxBudget;
  private readonly log: OutboxLog;
  private readonly path: string;
  private readonly maxPageCount: number | undefined;
  private readonly synchronous: 'FULL' | 'NORMAL';
  private statements!: ReturnType<Outbox['prepare']>;
  private bootRef = 0;
  private readonly bootIds = new Map<number, string>();
  private readonly seqs = new Map<string, number>();
  private rows = 0;
  private bytes = 0;
  private readonly evictedBy: EvictionCounts = { vitalsThinned: 0, vitalsDropped: 0, configAcksDropped: 0, alarmsDropped: 0 };
  /** Taken and published, no PUBACK yet: id → stored bytes. */
  private readonly inFlight = new Map<number, number>();
  /** PUBACK received, delete not yet committed (deletes are batched). */
  private readonly ackPending = new Map<number, number>();
  private ackFlushScheduled = false;
  /** Highest id handed out per replay class since the last release. */
  private readonly cursors = { alarms: 0, configAck: 0, vitals: 0 };
  private acked = 0;
  private rejected = 0;
  private diskFull = false;
  private durable = true;
  private recoveredFromCorruption = false;
  private movedAsideTo: string | undefined;
  private closed = false;
  private readonly listeners = new Set<(kind: OutboxKind) => void>();
  private readonly topics: Record<OutboxKind, string>;

  static open(opts: OutboxOptions): Outbox {
    return new Outbox(opts);
  }

  private constructor(opts: OutboxOptions) {
    this.gatewayId = opts.gatewayId;
    this.clock = opts.clock;
    this.budget = { ...DEFAULT_BUDGET, ...opts.budget };
    this.log = opts.log ?? consoleLog;
    this.path = opts.path;
    this.maxPageCount = opts.maxPageCount;
    this.synchronous = opts.synchronous ?? 'FULL';
    // topicFor throws early on an invalid gateway id.
    this.topics = {
      vitals: topicFor(this.gatewayId, 'vitals'),
      alarms: topicFor(this.gatewayId, 'alarms'),
      'config-ack': topicFor(this.gatewayId, 'config-ack'),
    };
    this.attach(
      openOutboxDatabase({ path: this.path, gatewayId: this.gatewayId, log: this.log, nowMs: Date.now(), maxPageCount: this.maxPageCount }),
    );
  }

  private attach(opened: OpenedDatabase): void {
    this.db = opened.db;
    this.durable = !opened.inMemory;
    if (opened.movedAsideTo !== undefined) {
      this.recoveredFromCorruption = true;
      this.movedAsideTo = opened.movedAsideTo;
    }
    this.db.pragma(`synchronous = ${this.synchronous}`);
    this.statements = this.prepare();
    const s = this.statements;
    s.insertBoot.run(this.clock.bootId);
    this.bootRef = s.bootRef.get(this.clock.bootId) as number;
    this.bootIds.clear();
    for (const row of s.allBoots.all() as { id: number; boot_id: string }[]) this.bootIds.set(row.id, row.boot_id);
    // Counters that survive a recovery are carried into the fresh file, so seq never goes back.
    for (const row of s.allSeqs.all() as { kind: string; next: number }[]) {
      this.seqs.set(row.kind, Math.max(row.next, this.seqs.get(row.kind) ?? 0));
    }
    for (const [kind, next] of this.seqs) s.putSeq.run(kind, next);
    for (const row of s.allCounters.all() as { name: keyof EvictionCounts; value: number }[]) {
      if (row.name in this.evictedBy) this.evictedBy[row.name] = Math.max(this.evictedBy[row.name], row.value);
    }
    const totals = s.totals.get() as { rows: number; bytes: number | null };
    this.rows = totals.rows;
    this.bytes = totals.bytes ?? 0;
    this.inFlight.clear();
    this.ackPending.clear();
    this.resetCursors();
  }

  private prepare() {
    const db = this.db;
    return {
      insertBoot: db.prepare('INSERT OR IGNORE INTO boot (boot_id) VALUES (?)'),
      bootRef: db.prepare('SELECT id FROM boot WHERE boot_id = ?').pluck(),
      allBoots: db.prepare('SELECT id, boot_id FROM boot'),
      allSeqs: db.prepare('SELECT kind, next FROM seq'),
      putSeq: db.prepare('INSERT INTO seq (kind, next) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET next = excluded.next'),
      allCounters: db.prepare('SELECT name, value FROM counter'),
      putCounter: db.prepare('INSERT INTO counter (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
      totals: db.prepare('SELECT count(*) AS rows, sum(bytes) AS bytes FROM message'),
      insert: db.prepare(
        'INSERT INTO message (id, class, msg_id, seq, synced, boot, t, bytes, body) VALUES (@id, @cls, @msgId, @seq, @synced, @boot, @t, @bytes, @body)',
      ),
      remove: db.prepare('DELETE FROM message WHERE id = ?'),
      // Cursors: everything at or below the last id taken is in flight or gone, so the scan starts after it.
      takeClass: db.prepare('SELECT * FROM message WHERE class = ? AND id > ? ORDER BY id LIMIT ?'),
      takeVitals: db.prepare('SELECT * FROM message WHERE class >= 2 AND id > ? ORDER BY id LIMIT ?'),
      thinCandidates: db.prepare('SELECT * FROM message WHERE class = 2 ORDER BY id LIMIT ?'),
      oldestOfClass: db.prepare('SELECT id, bytes FROM message WHERE class = ? ORDER BY id LIMIT ?'),
      oldestVitals: db.prepare('SELECT id, bytes FROM message WHERE class >= 2 ORDER BY id LIMIT ?'),
      markThinned: db.prepare('UPDATE message SET class = 3 WHERE id = ?'),
    };
  }

  // ---- enqueue ---------------------------------------------------------------------------------------------

  /** Stores vitals (durably, when this returns). One message per call, split only to respect the contract limits. */
  enqueueVitals(readings: readonly Reading[]): void {
    if (readings.length === 0) return;
    const chunks = chunk(readings, MAX_READINGS_PER_MESSAGE, PAYLOAD_LIMITS.vitals - ENVELOPE_ROOM);
    this.enqueue(
      'vitals',
      CLASS.vitals,
      chunks.map((c) => ({ t: c[0]!.t, body: c })),
    );
  }

  /** Stores alarm events (durably, when this returns); they are sent before anything else and evicted last. */
  enqueueAlarms(events: readonly AlarmEvent[]): void {
    if (events.length === 0) return;
    const chunks = chunk(events, MAX_ALARM_EVENTS_PER_MESSAGE, PAYLOAD_LIMITS.alarms - ENVELOPE_ROOM);
    this.enqueue(
      'alarms',
      CLASS.alarms,
      chunks.map((c) => ({ t: c[0]!.t, body: c })),
    );
  }

  enqueueConfigAck(ack: ConfigAck): void {
    const t = this.clock.nowMs();
    const body = {
      t,
      configVersion: ack.configVersion,
      accepted: ack.accepted,
      ...(ack.reason !== undefined ? { reason: ack.reason } : {}),
    };
    this.enqueue('config-ack', CLASS.configAck, [{ t, body }]);
  }

  /** A fresh envelope for a message that does not go through the outbox (status); consumes a persisted seq. */
  envelope(kind: 'status'): Envelope {
    const seq = this.seqs.get(kind) ?? 0;
    this.guard(() => this.statements.putSeq.run(kind, seq + 1));
    this.seqs.set(kind, seq + 1);
    return {
      v: SCHEMA_VERSION,
      msgId: newId(),
      gatewayId: this.gatewayId,
      seq,
      clock: { quality: this.clock.quality(), bootId: this.clock.bootId },
    };
  }

  private message(kind: OutboxKind, env: Envelope, body: unknown): unknown {
    if (kind === 'vitals') return { ...env, type: 'vitals', units: { ...VITALS_UNITS }, readings: body };
    if (kind === 'alarms') return { ...env, type: 'alarms', events: body };
    return { ...env, type: 'config-ack', ...(body as object) };
  }

  private enqueue(kind: OutboxKind, cls: number, parts: { t: number; body: unknown }[]): void {
    this.assertOpen();
    const quality = this.clock.quality();
    const clock = { quality, bootId: this.clock.bootId };
    let nextSeq = this.seqs.get(kind) ?? 0;
    const rows: PendingRow[] = [];
    for (const part of parts) {
      const env: Envelope = { v: SCHEMA_VERSION, msgId: newId(), gatewayId: this.gatewayId, seq: nextSeq, clock };
      const checked = validate(kind, this.message(kind, env, part.body));
      if (!checked.ok) {
        this.rejected += 1;
        throw new OutboxInputError(`refusing to store an invalid ${kind} message: ${checked.reason}`);
      }
      rows.push({ cls, kind, msgId: env.msgId, seq: nextSeq, t: part.t, body: JSON.stringify(part.body) });
      nextSeq += 1;
    }
    this.store(rows, quality === 'synced');
    this.enforceBudget();
    for (const listener of this.listeners) {
      try {
        listener(kind);
      } catch (error) {
        // The message is committed; a listener's failure must not look like an enqueue failure.
        this.log.error({ err: error }, 'outbox: enqueue listener failed');
      }
    }
  }

  /** Calls `listener` after every committed enqueue (the uplink sends at once instead of polling). */
  onEnqueued(listener: (kind: OutboxKind) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Inserts rows and advances their seq counters in one transaction; frees space and retries on a full disk. */
  private store(rows: PendingRow[], synced: boolean): void {
    const write = () =>
      this.db.transaction(() => {
        let added = 0;
        const seqs = new Map<string, number>();
        for (const row of rows) {
          const bytes = Buffer.byteLength(row.body) + row.msgId.length + ROW_OVERHEAD_BYTES;
          this.statements.insert.run({
            id: row.id ?? null,
            cls: row.cls,
            msgId: row.msgId,
            seq: row.seq,
            synced: synced ? 1 : 0,
            boot: this.bootRef,
            t: row.t,
            bytes,
            body: row.body,
          });
          added += bytes;
          seqs.set(row.kind, Math.max(seqs.get(row.kind) ?? 0, row.seq + 1));
        }
        for (const [kind, next] of seqs) this.statements.putSeq.run(kind, next);
        return { added, seqs };
      })();
    for (let attempt = 0; ; attempt++) {
      try {
        const { added, seqs } = this.guard(write);
        for (const [kind, next] of seqs) this.seqs.set(kind, next);
        this.rows += rows.length;
        this.bytes += added;
        this.diskFull = false;
        return;
      } catch (error) {
        if (!isDiskFullError(error)) throw error;
        // Deleted rows leave free pages SQLite reuses, so evicting makes room without growing the file.
        if (attempt >= 8 || !this.evictStep(Math.max(this.bytes * 0.05, 64 * 1024), Math.max(this.rows * 0.05, 10))) {
          this.diskFull = true;
          this.log.error({ err: error, kind: rows[0]?.kind }, 'outbox: storage full even after eviction; message not stored');
          throw new OutboxStorageError('outbox storage is full', { cause: error });
        }
      }
    }
  }

  // ---- drain -----------------------------------------------------------------------------------------------

  private busy(id: number): boolean {
    return this.inFlight.has(id) || this.ackPending.has(id);
  }

  /**
   * Up to `max` messages not yet in flight, in replay order (alarm events, config acks, vitals; oldest
   * first within each). They stay stored until `ack`; `release` makes them available again.
   */
  take(max: number): OutboxEntry[] {
    this.assertOpen();
    const out: OutboxEntry[] = [];
    const fill = (query: (after: number, limit: number) => StoredRow[], cursor: 'alarms' | 'configAck' | 'vitals') => {
      // Busy rows (acknowledged, delete not yet committed) may sit after the cursor after a release: page past them.
      for (;;) {
        const want = max - out.length;
        if (want <= 0) return;
        const rows = query(this.cursors[cursor], want);
        for (const row of rows) {
          this.cursors[cursor] = Math.max(this.cursors[cursor], row.id);
          if (this.busy(row.id)) continue;
          const entry = this.entryOf(row);
          if (entry) {
            out.push(entry);
            this.inFlight.set(row.id, row.bytes);
          }
        }
        if (rows.length < want) return;
      }
    };
    this.guard(() => {
      // Read the statements inside: after a corruption recovery the retry runs on the fresh database.
      const s = this.statements;
      fill((after, limit) => s.takeClass.all(CLASS.alarms, after, limit) as StoredRow[], 'alarms');
      fill((after, limit) => s.takeClass.all(CLASS.configAck, after, limit) as StoredRow[], 'configAck');
      fill((after, limit) => s.takeVitals.all(after, limit) as StoredRow[], 'vitals');
    });
    return out;
  }

  /**
   * The wire message for a stored row, by concatenation: the body was validated (as part of the whole
   * message) when it was enqueued, so the drain does not parse, re-validate and re-serialise it — that
   * work was most of the per-message cost of a replay (docs/BENCHMARKS.md). The relay validates again.
   */
  private serialize(kind: OutboxKind, row: StoredRow, bootId: string): string {
    const body = row.body;
    const first = body[0];
    if ((first !== '[' && first !== '{') || body.length < 2) throw new Error('stored body is not JSON');
    const envelope = `{"v":${SCHEMA_VERSION},"msgId":${JSON.stringify(row.msg_id)},"gatewayId":${JSON.stringify(this.gatewayId)},"seq":${row.seq},"clock":{"quality":"${row.synced ? 'synced' : 'unsynced'}","bootId":${JSON.stringify(bootId)}},`;
    if (kind === 'vitals') return `${envelope}"type":"vitals","units":${UNITS_JSON},"readings":${body}}`;
    if (kind === 'alarms') return `${envelope}"type":"alarms","events":${body}}`;
    if (first !== '{' || body === '{}') throw new Error('stored config ack is not an object');
    return `${envelope}"type":"config-ack",${body.slice(1)}`;
  }

  private entryOf(row: StoredRow): OutboxEntry | null {
    const kind = KIND_OF_CLASS[row.class];
    try {
      if (!kind) throw new Error(`unknown class ${row.class}`);
      const bootId = this.bootIds.get(row.boot);
      if (!bootId) throw new Error(`unknown boot ${row.boot}`);
      const payload = Buffer.from(this.serialize(kind, row, bootId));
      if (payload.byteLength > PAYLOAD_LIMITS[kind])
        throw new Error(`${kind} message of ${payload.byteLength} bytes exceeds the contract limit`);
      return { id: row.id, kind, topic: this.topics[kind], msgId: row.msg_id, seq: row.seq, payload };
    } catch (error) {
      // A row that cannot become a valid message would block the queue forever: drop it, count it, say so.
      this.rejected += 1;
      this.log.error({ err: error, id: row.id }, 'outbox: stored message is invalid; dropped');
      this.guard(() => this.statements.remove.run(row.id));
      this.rows -= 1;
      this.bytes -= row.bytes;
      return null;
    }
  }

  /** The broker acknowledged the message (PUBACK): it may now be deleted. Deletes are committed in batches. */
  ack(id: number): void {
    const bytes = this.inFlight.get(id);
    if (bytes === undefined || this.closed) return;
    this.inFlight.delete(id);
    this.ackPending.set(id, bytes);
    this.acked += 1;
    if (!this.ackFlushScheduled) {
      this.ackFlushScheduled = true;
      setImmediate(() => this.flushAcks());
    }
  }

  /** Commits pending deletes. A crash before this only means those messages are sent again (and deduped). */
  flushAcks(): void {
    this.ackFlushScheduled = false;
    if (this.ackPending.size === 0 || this.closed) return;
    const ids = [...this.ackPending];
    try {
      // NORMAL is enough here: losing a delete on power loss re-sends a message, it never loses one.
      this.db.pragma('synchronous = NORMAL');
      this.guard(() =>
        this.db.transaction(() => {
          for (const [id] of ids) this.statements.remove.run(id);
        })(),
      );
      for (const [id, bytes] of ids) {
        this.ackPending.delete(id);
        this.rows -= 1;
        this.bytes -= bytes;
      }
    } catch (error) {
      this.log.error({ err: error }, 'outbox: could not delete acknowledged messages; they will be sent again');
      this.ackPending.clear();
    } finally {
      if (this.db.open) this.db.pragma(`synchronous = ${this.synchronous}`);
    }
  }

  /** The connection dropped before these were acknowledged: make them available to `take` again. */
  release(ids?: Iterable<number>): void {
    if (ids === undefined) this.inFlight.clear();
    else for (const id of ids) this.inFlight.delete(id);
    this.resetCursors();
  }

  private resetCursors(): void {
    this.cursors.alarms = 0;
    this.cursors.configAck = 0;
    this.cursors.vitals = 0;
  }

  // ---- budget ----------------------------------------------------------------------------------------------

  stats(): OutboxStats {
    const fill = Math.max(this.bytes / this.budget.maxBytes, this.rows / this.budget.maxRows);
    const evicted = Object.values(this.evictedBy).reduce((a, b) => a + b, 0);
    return {
      rows: this.rows,
      bytes: this.bytes,
      evicted,
      evictedBy: { ...this.evictedBy },
      fill,
      nearlyFull: fill >= this.budget.nearlyFullAt,
      inFlight: this.inFlight.size,
      acked: this.acked,
      rejected: this.rejected,
      durable: this.durable,
      diskFull: this.diskFull,
      ...(this.recoveredFromCorruption ? { recoveredFromCorruption: true } : {}),
      ...(this.movedAsideTo !== undefined ? { movedAsideTo: this.movedAsideTo } : {}),
    };
  }

  private enforceBudget(): void {
    const { maxBytes, maxRows, evictTo } = this.budget;
    if (this.bytes <= maxBytes && this.rows <= maxRows) return;
    for (let guard = 0; guard < 10_000; guard++) {
      const excessBytes = this.bytes - maxBytes * evictTo;
      const excessRows = this.rows - maxRows * evictTo;
      if (excessBytes <= 0 && excessRows <= 0) return;
      if (!this.evictStep(excessBytes, excessRows)) return;
    }
  }

  /** One eviction step, least valuable first; false when nothing more can be evicted. */
  private evictStep(excessBytes: number, excessRows: number): boolean {
    return (
      this.thinOldestVitals() ||
      this.dropOldest(this.statements.oldestVitals, null, 'vitalsDropped', excessBytes, excessRows) ||
      this.dropOldest(this.statements.oldestOfClass, CLASS.configAck, 'configAcksDropped', excessBytes, excessRows) ||
      this.dropOldest(this.statements.oldestOfClass, CLASS.alarms, 'alarmsDropped', excessBytes, excessRows)
    );
  }

  /** Replaces each minute of the oldest full-resolution vitals by one aggregate message. */
  private thinOldestVitals(): boolean {
    const rows = (this.guard(() => this.statements.thinCandidates.all(THIN_CHUNK_ROWS)) as StoredRow[]).filter((r) => !this.busy(r.id));
    if (rows.length === 0) return false;
    const groups: StoredRow[][] = [];
    for (const row of rows) {
      const last = groups[groups.length - 1];
      const head = last?.[0];
      if (last && head && head.boot === row.boot && Math.floor(head.t / 60_000) === Math.floor(row.t / 60_000)) last.push(row);
      else groups.push([row]);
    }
    let merged = 0;
    let freed = 0;
    const replacements: { group: StoredRow[]; row: PendingRow; synced: boolean; bytes: number }[] = [];
    let nextSeq = this.seqs.get('vitals') ?? 0;
    for (const group of groups) {
      if (group.length === 1) continue;
      const readings = thinToMinutes(group.flatMap((r) => JSON.parse(r.body) as Reading[]));
      const body = JSON.stringify(readings);
      const msgId = newId();
      const bytes = Buffer.byteLength(body) + msgId.length + ROW_OVERHEAD_BYTES;
      replacements.push({
        group,
        row: { id: group[0]!.id, cls: CLASS.vitalsThinned, kind: 'vitals', msgId, seq: nextSeq++, t: group[0]!.t, body },
        synced: group.every((r) => r.synced === 1),
        bytes,
      });
    }
    this.guard(() =>
      this.db.transaction(() => {
        for (const { group, row, synced, bytes } of replacements) {
          for (const old of group) this.statements.remove.run(old.id);
          this.statements.insert.run({
            id: row.id,
            cls: row.cls,
            msgId: row.msgId,
            seq: row.seq,
            synced: synced ? 1 : 0,
            boot: group[0]!.boot,
            t: row.t,
            bytes,
            body: row.body,
          });
        }
        // Single-row minutes are already as thin as they get.
        for (const group of groups) if (group.length === 1) this.statements.markThinned.run(group[0]!.id);
        merged = replacements.reduce((a, r) => a + r.group.length - 1, 0);
        this.statements.putSeq.run('vitals', nextSeq);
        this.statements.putCounter.run('vitalsThinned', this.evictedBy.vitalsThinned + merged);
      })(),
    );
    for (const { group, bytes } of replacements) freed += group.reduce((a, r) => a + r.bytes, 0) - bytes;
    this.seqs.set('vitals', nextSeq);
    this.evictedBy.vitalsThinned += merged;
    this.rows -= merged;
    this.bytes -= freed;
    if (merged > 0) this.log.warn({ merged, freed }, 'outbox: over budget; thinned old vitals to per-minute aggregates');
    return true;
  }

  private dropOldest(
    stmt: ReturnType<Outbox['prepare']>['oldestVitals'],
    cls: number | null,
    counter: keyof EvictionCounts,
    excessBytes: number,
    excessRows: number,
  ): boolean {
    const candidates = (
      this.guard(() => (cls === null ? stmt.all(DROP_CHUNK_ROWS) : stmt.all(cls, DROP_CHUNK_ROWS))) as { id: number; bytes: number }[]
    ).filter((r) => !this.busy(r.id));
    if (candidates.length === 0) return false;
    const victims: { id: number; bytes: number }[] = [];
    let bytes = 0;
    for (const row of candidates) {
      victims.push(row);
      bytes += row.bytes;
      if (bytes >= excessBytes && victims.length >= excessRows) break;
    }
    this.guard(() =>
      this.db.transaction(() => {
        for (const v of victims) this.statements.remove.run(v.id);
        this.statements.putCounter.run(counter, this.evictedBy[counter] + victims.length);
      })(),
    );
    this.evictedBy[counter] += victims.length;
    this.rows -= victims.length;
    this.bytes -= bytes;
    const level = counter === 'alarmsDropped' ? 'error' : 'warn';
    this.log[level]({ dropped: victims.length, bytes, class: counter }, 'outbox: over budget; dropped oldest messages');
    return true;
  }

  // ---- failure handling ------------------------------------------------------------------------------------

  /** Runs a database operation; if the file turns out corrupted, moves it aside, starts fresh and retries once. */
  private guard<T>(operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      if (!isUnusableFileError(error) || !this.durable) throw error;
      this.log.error({ err: error, path: this.path }, 'outbox: database corrupted while running; moving it aside and starting fresh');
      try {
        this.db.close();
      } catch {
        // Already unusable; the file is moved aside below either way.
      }
      let movedAsideTo: string | undefined;
      try {
        movedAsideTo = moveAside(this.path, Date.now());
      } catch (moveError) {
        this.log.error({ err: moveError }, 'outbox: could not move the corrupted database aside');
      }
      this.attach(
        openOutboxDatabase({
          path: this.path,
          gatewayId: this.gatewayId,
          log: this.log,
          nowMs: Date.now(),
          maxPageCount: this.maxPageCount,
        }),
      );
      this.recoveredFromCorruption = true;
      if (movedAsideTo !== undefined) this.movedAsideTo = movedAsideTo;
      const result = operation();
      // The caller adjusts its counters for the old file after this returns; recount from the fresh one.
      queueMicrotask(() => this.recount());
      return result;
    }
  }

  private recount(): void {
    if (this.closed) return;
    const totals = this.statements.totals.get() as { rows: number; bytes: number | null };
    this.rows = totals.rows;
    this.bytes = totals.bytes ?? 0;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('outbox is closed');
  }

  /** Commits pending deletes and closes the database. */
  close(): void {
    if (this.closed) return;
    this.flushAcks();
    this.closed = true;
    this.db.close();
  }
}
