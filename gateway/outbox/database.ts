/**
 * Opening the outbox database so that a bad file never stops the gateway:
 * a corrupted or unreadable file is moved aside (kept for forensics, named in
 * the log) and a fresh outbox is created; if even that fails (read-only or
 * missing storage) the outbox runs in memory and says it is not durable. Either
 * way the gateway keeps measuring and raises a technical alarm instead of
 * entering a crash loop.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

export interface OutboxLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seq (kind TEXT PRIMARY KEY, next INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS boot (id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL UNIQUE);
-- One row is one wire message, built (msgId, seq, clock) when it was enqueued.
-- class: 0 alarm events, 1 config acks, 2 vitals, 3 vitals thinned to per-minute aggregates.
CREATE TABLE IF NOT EXISTS message (
  -- AUTOINCREMENT: an id is never reused after a delete, so the drain cursors (which only move forward) cannot skip a new row.
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  class INTEGER NOT NULL,
  msg_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  synced INTEGER NOT NULL,
  boot INTEGER NOT NULL,
  t INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS message_class ON message (class);
`;

/** SQLite result codes (https://sqlite.org/rescode.html) that mean the file itself is unusable. */
const UNUSABLE_FILE_CODES = new Set([
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR_SHORT_READ',
  'SQLITE_CORRUPT_INDEX',
]);

export function isUnusableFileError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (UNUSABLE_FILE_CODES.has(code) || code.startsWith('SQLITE_CORRUPT'));
}

export function isDiskFullError(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'SQLITE_FULL';
}

function openChecked(path: string, gatewayId: string, opts: { maxPageCount?: number }): SqliteDatabase {
  const db = new Database(path);
  try {
    // WAL: readers never block the writer, and a commit is one append to the log.
    db.pragma('journal_mode = WAL');
    // FULL: every enqueue commit is fsynced before enqueue returns (https://sqlite.org/pragma.html#pragma_synchronous).
    db.pragma('synchronous = FULL');
    if (opts.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(opts.maxPageCount)}`);
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    db.exec(SCHEMA);
    const version = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('schema') as string | undefined;
    const owner = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('gatewayId') as string | undefined;
    if (version !== undefined && Number(version) !== SCHEMA_VERSION) {
      throw Object.assign(new Error(`outbox schema ${version}, expected ${SCHEMA_VERSION}`), { code: 'SQLITE_CORRUPT' });
    }
    if (owner !== undefined && owner !== gatewayId) {
      throw Object.assign(new Error(`outbox belongs to gateway "${owner}", not "${gatewayId}"`), { code: 'SQLITE_CORRUPT' });
    }
    const put = db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
    put.run('schema', String(SCHEMA_VERSION));
    put.run('gatewayId', gatewayId);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Renames the database and its WAL/SHM files to `<path>.corrupt-<stamp>`; returns the new name. */
export function moveAside(path: string, stampMs: number): string {
  const aside = `${path}.corrupt-${new Date(stampMs).toISOString().replaceAll(':', '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  }
  return aside;
}

export interface OpenedDatabase {
  db: SqliteDatabase;
  /** The file was unusable and has been moved here. */
  movedAsideTo?: string;
  /** No file could be opened: the outbox lives in memory until restart. */
  inMemory: boolean;
  openError?: string;
}

export function openOutboxDatabase(opts: {
  path: string;
  gatewayId: string;
  log: OutboxLog;
  nowMs: number;
  maxPageCount?: number;
}): OpenedDatabase {
  const { path, gatewayId, log } = opts;
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    log.error({ err: error, path }, 'outbox: cannot create the data directory');
  }
  let firstError: unknown;
  try {
    return { db: openChecked(path, gatewayId, opts), inMemory: false };
  } catch (error) {
    firstError = error;
  }
  let movedAsideTo: string | undefined;
  try {
    // Anything else (SQLITE_BUSY: another process holds it, SQLITE_READONLY) must not lose the file.
    if (!isUnusableFileError(firstError)) throw firstError;
    if (existsSync(path)) movedAsideTo = moveAside(path, opts.nowMs);
    log.error(
      { err: firstError, path, movedAsideTo },
      'outbox: database unusable; moved aside, starting a fresh outbox (messages in the old file are not sent)',
    );
    return { db: openChecked(path, gatewayId, opts), movedAsideTo, inMemory: false, openError: String(firstError) };
  } catch (error) {
    log.error({ err: error, path }, 'outbox: cannot open a fresh database file; buffering in memory only (not durable)');
    return { db: openChecked(':memory:', gatewayId, opts), movedAsideTo, inMemory: true, openError: String(error) };
  }
}
