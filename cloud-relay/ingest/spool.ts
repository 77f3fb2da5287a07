/**
 * The relay's durable spool: every accepted uplink message is committed here
 * (fsync'd, SQLite WAL with synchronous=FULL) before the broker sends PUBACK,
 * and stays until the history store has accepted it. The same transaction
 * records the (gateway, msgId) pair for dedupe and the sequence state for gap
 * detection, so a crash can never leave one without the other.
 *
 * Dedupe pairs are first appended to `seen_log` (rows in arrival order, so a
 * commit writes a few adjacent pages) and indexed in memory; every
 * `seenMergeRows` pairs they move, sorted, into the `seen` index. Keyed by
 * random msgIds from thousands of interleaved gateways, that index otherwise
 * takes a page write per message once it outgrows the cache.
 */
import Database from 'better-sqlite3';
import type { UplinkKind } from '../../protocol/topics.ts';
import { observeSeq, type SeqObservation, type SeqState } from './seq-tracker.ts';

export interface SpoolEntry {
  gatewayId: string;
  patientId: string;
  kind: UplinkKind;
  msgId: string;
  seq: number;
  /** The validated payload, as received. */
  payload: string;
  receivedAt: number;
  /** False for messages that only need dedupe and gap tracking (status, config-ack). */
  keep: boolean;
  /** False for kinds whose seq has holes by design (status: the last will is sent only on an unclean disconnect). */
  trackSeq?: boolean;
}

export type AdmitResult = { duplicate: true } | { duplicate: false; seq: SeqObservation };

/** One write in a group commit: a message to admit, or a refused payload to quarantine. */
export type SpoolOp =
  | { op: 'admit'; entry: SpoolEntry }
  | { op: 'quarantine'; gatewayId: string; kind: string; code: string; reason: string; payload: Uint8Array; receivedAt: number };

/** Per op: the admission's result, null for a quarantine. */
export type SpoolOpResult = AdmitResult | null;

export interface SpoolRow {
  id: number;
  gatewayId: string;
  patientId: string;
  kind: UplinkKind;
  msgId: string;
  payload: string;
  receivedAt: number;
}

export interface GapReport {
  kind: UplinkKind;
  highestSeq: number;
  missing: Array<[number, number]>;
}

export class SpoolWriteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpoolWriteError';
  }
}

/** Payloads refused by validation are kept (bounded) for investigation, never silently dropped. */
export const MAX_QUARANTINE_ROWS = 10_000;

export interface SpoolOptions {
  /** Dedupe pairs logged before they are merged into the `seen` index (default 100,000). */
  seenMergeRows?: number;
  /** Pairs moved per step of a merge (default 5,000). */
  seenMergeChunk?: number;
}

const DEFAULT_SEEN_MERGE_ROWS = 100_000;
/**
 * One merge step follows each commit; a small one, so a merge never holds the writer for long: 5,000 pairs
 * took 100–250 ms on a busy machine, and the drain and the next commits waited behind every step.
 */
const DEFAULT_SEEN_MERGE_CHUNK = 500;

const dedupeKey = (gatewayId: string, msgId: string) => `${gatewayId}\u0000${msgId}`;

export class Spool {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly admitTx;
  private rows: number;
  private group: { rows: number } | null = null;
  /**
   * Sequence state as committed, read for every message, so kept in memory.
   * States written by a transaction wait in `seqPending` until it commits,
   * and are dropped if it rolls back.
   */
  private readonly seqCommitted = new Map<string, SeqState>();
  private readonly seqPending = new Map<string, SeqState>();
  /** Dedupe pairs in `seen_log`, loaded on the first write (a reading connection never needs them). */
  private recent: Set<string> | null = null;
  /** Pairs logged by the open transaction: remembered only if it commits. */
  private readonly recentPending = new Set<string>();
  private readonly seenMergeRows: number;
  private readonly seenMergeChunk: number;
  /** A merge in progress: `seen_log` rows up to `upTo`, sorted by key, `next` the first not yet in `seen`. */
  private merge: { rows: Array<[string, string, number]>; upTo: number; next: number } | null = null;

  constructor(path: string, options: SpoolOptions = {}) {
    this.seenMergeRows = options.seenMergeRows ?? DEFAULT_SEEN_MERGE_ROWS;
    this.seenMergeChunk = options.seenMergeChunk ?? DEFAULT_SEEN_MERGE_CHUNK;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: the commit is on disk before the PUBACK that follows it goes out.
    this.db.pragma('synchronous = FULL');
    // Checkpoint every 64 MiB of WAL instead of 4 MiB: a page the dedupe index dirties again and again between
    // checkpoints is copied into the file once. About a third less cost per message at fleet scale
    // (npm run bench:relay -- --spool-growth); the WAL file stays at up to that size.
    this.db.pragma('wal_autocheckpoint = 16384');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS spool (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        gateway_id TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS seen (
        gateway_id TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (gateway_id, msg_id)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS seen_by_age ON seen (received_at);
      CREATE TABLE IF NOT EXISTS seen_log (
        id INTEGER PRIMARY KEY,
        gateway_id TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS seq_state (
        gateway_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        highest INTEGER NOT NULL,
        gaps TEXT NOT NULL,
        PRIMARY KEY (gateway_id, kind)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        gateway_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        payload BLOB NOT NULL,
        received_at INTEGER NOT NULL
      );
    `);
    this.statements = {
      seen: this.db.prepare('INSERT OR IGNORE INTO seen (gateway_id, msg_id, received_at) VALUES (?, ?, ?)'),
      isSeen: this.db.prepare('SELECT 1 FROM seen WHERE gateway_id = ? AND msg_id = ?').pluck(),
      logSeen: this.db.prepare('INSERT INTO seen_log (gateway_id, msg_id, received_at) VALUES (?, ?, ?)'),
      seenLog: this.db.prepare('SELECT gateway_id, msg_id FROM seen_log').raw(),
      seenLogSorted: this.db
        .prepare('SELECT gateway_id, msg_id, received_at FROM seen_log WHERE id <= ? ORDER BY gateway_id, msg_id')
        .raw(),
      seenLogEnd: this.db.prepare('SELECT max(id) FROM seen_log').pluck(),
      dropSeenLog: this.db.prepare('DELETE FROM seen_log WHERE id <= ?'),
      pruneSeenLog: this.db.prepare('DELETE FROM seen_log WHERE received_at < ? RETURNING gateway_id, msg_id').raw(),
      spool: this.db.prepare('INSERT INTO spool (gateway_id, patient_id, kind, msg_id, payload, received_at) VALUES (?, ?, ?, ?, ?, ?)'),
      getSeq: this.db.prepare('SELECT highest, gaps FROM seq_state WHERE gateway_id = ? AND kind = ?'),
      putSeq: this.db.prepare(
        'INSERT INTO seq_state (gateway_id, kind, highest, gaps) VALUES (?, ?, ?, ?) ON CONFLICT (gateway_id, kind) DO UPDATE SET highest = excluded.highest, gaps = excluded.gaps',
      ),
      peek: this.db.prepare('SELECT id, gateway_id, patient_id, kind, msg_id, payload, received_at FROM spool ORDER BY id LIMIT ?'),
      peekKind: this.db.prepare(
        'SELECT id, gateway_id, patient_id, kind, msg_id, payload, received_at FROM spool WHERE kind = ? ORDER BY id LIMIT ?',
      ),
      count: this.db.prepare('SELECT count(*) AS n FROM spool'),
      quarantine: this.db.prepare(
        'INSERT INTO quarantine (gateway_id, kind, code, reason, payload, received_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      trimQuarantine: this.db.prepare('DELETE FROM quarantine WHERE id <= (SELECT max(id) FROM quarantine) - ?'),
      gaps: this.db.prepare('SELECT kind, highest, gaps FROM seq_state WHERE gateway_id = ? ORDER BY kind'),
      pruneSeen: this.db.prepare('DELETE FROM seen WHERE received_at < ?'),
      remove: this.db.prepare('DELETE FROM spool WHERE id = ?'),
      peekAfter: this.db.prepare(
        'SELECT id, gateway_id, patient_id, kind, msg_id, payload, received_at FROM spool WHERE id > ? ORDER BY id LIMIT ?',
      ),
    };
    this.admitTx = this.db.transaction((entry: SpoolEntry): AdmitResult => {
      const pair = dedupeKey(entry.gatewayId, entry.msgId);
      if (
        this.recentPairs().has(pair) ||
        this.recentPending.has(pair) ||
        this.statements.isSeen.get(entry.gatewayId, entry.msgId) !== undefined
      )
        return { duplicate: true };
      this.statements.logSeen.run(entry.gatewayId, entry.msgId, entry.receivedAt);
      this.recentPending.add(pair);
      if (entry.keep) {
        this.statements.spool.run(entry.gatewayId, entry.patientId, entry.kind, entry.msgId, entry.payload, entry.receivedAt);
      }
      if (entry.trackSeq === false)
        return { duplicate: false, seq: { state: { highest: entry.seq, gaps: [] }, newGap: null, filled: false, reset: false } };
      const key = `${entry.gatewayId}\u0000${entry.kind}`;
      const previous = this.seqStateFor(key, entry.gatewayId, entry.kind);
      const seq = observeSeq(previous, entry.seq);
      if (seq.state !== previous) {
        this.statements.putSeq.run(entry.gatewayId, entry.kind, seq.state.highest, JSON.stringify(seq.state.gaps));
        this.seqPending.set(key, seq.state);
      }
      return { duplicate: false, seq };
    });
    this.rows = (this.statements.count.get() as { n: number }).n;
  }

  /**
   * Commits one message, or reports it as a duplicate. Throws SpoolWriteError
   * when it could not be made durable. Inside `commitGroup`, the message is
   * durable only once the group commits.
   */
  admit(entry: SpoolEntry): AdmitResult {
    if (this.group) {
      const result = this.admitTx(entry);
      if (!result.duplicate && entry.keep) this.group.rows++;
      return result;
    }
    let result: AdmitResult;
    try {
      result = this.admitTx.immediate(entry);
      this.afterCommit();
    } catch (error) {
      this.seqPending.clear();
      this.recentPending.clear();
      throw new SpoolWriteError(`spool write failed: ${(error as Error).message}`, { cause: error });
    }
    if (!result.duplicate && entry.keep) this.rows++;
    this.mergeSeenStep();
    return result;
  }

  /**
   * Runs `work` as one transaction: one commit and one fsync for every
   * message admitted in it (group commit). All or nothing: throws
   * SpoolWriteError and keeps nothing if the commit fails.
   */
  commitGroup<T>(work: () => T): T {
    if (this.group) throw new Error('commitGroup does not nest');
    this.group = { rows: 0 };
    try {
      const result = this.db.transaction(work).immediate();
      this.afterCommit();
      this.rows += this.group.rows;
      this.group = null;
      this.mergeSeenStep();
      return result;
    } catch (error) {
      this.seqPending.clear();
      this.recentPending.clear();
      if (error instanceof SpoolWriteError) throw error;
      throw new SpoolWriteError(`spool write failed: ${(error as Error).message}`, { cause: error });
    } finally {
      this.group = null;
    }
  }

  private seqStateFor(key: string, gatewayId: string, kind: UplinkKind): SeqState | null {
    const known = this.seqPending.get(key) ?? this.seqCommitted.get(key);
    if (known) return known;
    const row = this.statements.getSeq.get(gatewayId, kind) as { highest: number; gaps: string } | undefined;
    return row ? { highest: row.highest, gaps: JSON.parse(row.gaps) as Array<[number, number]> } : null;
  }

  /** After a commit: the open transaction's sequence states and dedupe pairs become the committed ones. */
  private afterCommit(): void {
    for (const [key, state] of this.seqPending) this.seqCommitted.set(key, state);
    this.seqPending.clear();
    const recent = this.recentPairs();
    for (const key of this.recentPending) recent.add(key);
    this.recentPending.clear();
  }

  private recentPairs(): Set<string> {
    if (!this.recent) {
      this.recent = new Set();
      for (const [gatewayId, msgId] of this.statements.seenLog.iterate() as Iterable<[string, string]>)
        this.recent.add(dedupeKey(gatewayId, msgId));
    }
    return this.recent;
  }

  /**
   * One step of moving logged dedupe pairs into `seen`: sorted, so that a
   * merge dirties each index page once rather than once per pair. Pairs stay
   * in `seen_log` (and in memory) until all of them are in `seen`, so a crash
   * at any point leaves every pair findable.
   */
  private mergeSeenStep(): void {
    // Runs after a commit: whatever goes wrong here must not make that commit look failed.
    try {
      const recent = this.recentPairs();
      if (!this.merge) {
        if (recent.size < this.seenMergeRows) return;
        const upTo = this.statements.seenLogEnd.get() as number;
        this.merge = { rows: this.statements.seenLogSorted.all(upTo) as Array<[string, string, number]>, upTo, next: 0 };
      }
      const merge = this.merge;
      const end = Math.min(merge.rows.length, merge.next + this.seenMergeChunk);
      // NORMAL: no fsync of its own (checkpoints still sync). A step lost to a power cut rolls back whole, and
      // every pair stays in seen_log until the last step; the next commit's fsync makes the step durable with it.
      this.db.pragma('synchronous = NORMAL');
      try {
        this.db.transaction(() => {
          for (let i = merge.next; i < end; i++) {
            const [gatewayId, msgId, receivedAt] = merge.rows[i]!;
            this.statements.seen.run(gatewayId, msgId, receivedAt);
          }
          if (end === merge.rows.length) this.statements.dropSeenLog.run(merge.upTo);
        })();
      } finally {
        this.db.pragma('synchronous = FULL');
      }
      merge.next = end;
      if (end < merge.rows.length) return;
      for (const [gatewayId, msgId] of merge.rows) recent.delete(dedupeKey(gatewayId, msgId));
      this.merge = null;
    } catch {
      // The pairs are still in seen_log and in memory: nothing is forgotten. The next commit starts the merge again.
      this.merge = null;
    }
  }

  /** Applies `ops` in one transaction (one fsync); all or nothing, SpoolWriteError when the commit fails. */
  apply(ops: readonly SpoolOp[]): SpoolOpResult[] {
    return this.commitGroup(() =>
      ops.map((o) => {
        if (o.op === 'admit') return this.admit(o.entry);
        this.quarantine(o.gatewayId, o.kind, o.code, o.reason, o.payload, o.receivedAt);
        return null;
      }),
    );
  }

  quarantine(gatewayId: string, kind: string, code: string, reason: string, payload: Uint8Array, receivedAt: number): void {
    this.db.transaction(() => {
      this.statements.quarantine.run(gatewayId, kind, code, reason, Buffer.from(payload), receivedAt);
      this.statements.trimQuarantine.run(MAX_QUARANTINE_ROWS);
    })();
  }

  /** The most recent quarantined payloads' metadata, oldest first. */
  quarantined(limit = MAX_QUARANTINE_ROWS): Array<{ gatewayId: string; kind: string; code: string; reason: string; receivedAt: number }> {
    return (
      this.db
        .prepare(
          'SELECT * FROM (SELECT id, gateway_id, kind, code, reason, received_at FROM quarantine ORDER BY id DESC LIMIT ?) ORDER BY id',
        )
        .all(limit) as Array<{
        gateway_id: string;
        kind: string;
        code: string;
        reason: string;
        received_at: number;
      }>
    ).map((r) => ({ gatewayId: r.gateway_id, kind: r.kind, code: r.code, reason: r.reason, receivedAt: r.received_at }));
  }

  /** Oldest first; only messages of `kind` when given. */
  peek(limit: number, kind?: UplinkKind): SpoolRow[] {
    return toSpoolRows(kind ? this.statements.peekKind.all(kind, limit) : this.statements.peek.all(limit));
  }

  /** The next rows after `afterId`, oldest first: how the drainer reads on past its first batch. */
  peekAfter(afterId: number, limit: number): SpoolRow[] {
    return toSpoolRows(this.statements.peekAfter.all(afterId, limit));
  }

  /** Deletes rows the history store has accepted; returns how many were there. */
  remove(ids: readonly number[]): number {
    if (ids.length === 0) return 0;
    const removed = this.db.transaction(() => {
      let n = 0;
      for (const id of ids) n += this.statements.remove.run(id).changes;
      return n;
    })();
    this.rows -= removed;
    return removed;
  }

  depth(): number {
    return this.rows;
  }

  gaps(gatewayId: string): GapReport[] {
    return (this.statements.gaps.all(gatewayId) as Array<{ kind: UplinkKind; highest: number; gaps: string }>).map((r) => ({
      kind: r.kind,
      highestSeq: r.highest,
      missing: JSON.parse(r.gaps) as Array<[number, number]>,
    }));
  }

  /** Forgets msgIds older than `beforeMs`: the dedupe window. */
  pruneSeen(beforeMs: number): number {
    const recent = this.recentPairs();
    return this.db.transaction(() => {
      const logged = this.statements.pruneSeenLog.all(beforeMs) as Array<[string, string]>;
      for (const [gatewayId, msgId] of logged) recent.delete(dedupeKey(gatewayId, msgId));
      return logged.length + this.statements.pruneSeen.run(beforeMs).changes;
    })();
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toSpoolRows(rows: unknown[]): SpoolRow[] {
  return (
    rows as Array<{
      id: number;
      gateway_id: string;
      patient_id: string;
      kind: UplinkKind;
      msg_id: string;
      payload: string;
      received_at: number;
    }>
  ).map((r) => ({
    id: r.id,
    gatewayId: r.gateway_id,
    patientId: r.patient_id,
    kind: r.kind,
    msgId: r.msg_id,
    payload: r.payload,
    receivedAt: r.received_at,
  }));
}
