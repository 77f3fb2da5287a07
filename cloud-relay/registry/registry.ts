/**
 * Device registry: which gateways may connect, with which public key, for
 * which patient and bed; plus one-time enrollment tokens and dashboard viewer
 * tokens. Persisted in SQLite so a relay restart forgets nothing.
 *
 * Tokens are stored as SHA-256 hashes: a copy of the database does not hand
 * out working tokens.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import { importJWK, type JWK } from 'jose';
import { DEVICE_TOKEN_ALG } from '../../protocol/device-token.ts';
import type { PatientAssignment } from '../../protocol/enrollment.ts';
import type { PatientRef } from '../../protocol/live.ts';
import { isGatewayId } from '../../protocol/topics.ts';
import type { Clock } from '../clock.ts';

export type GatewayState = 'active' | 'revoked';

export interface GatewayRecord {
  gatewayId: string;
  patient: PatientAssignment;
  state: GatewayState;
  publicKeyJwk: JWK;
  enrolledAt: number;
  revokedAt: number | null;
}

export interface Viewer {
  viewerId: string;
  name: string;
  /** Patient ids this viewer may see; `['*']` means every patient. */
  patientIds: readonly string[];
}

export type EnrollmentErrorCode = 'unknown-token' | 'token-used' | 'token-expired' | 'gateway-mismatch' | 'bad-key';

export class EnrollmentError extends Error {
  constructor(
    readonly code: EnrollmentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EnrollmentError';
  }
}

export class UnknownGatewayError extends Error {
  constructor(readonly gatewayId: string) {
    super(`no gateway "${gatewayId}" is enrolled`);
    this.name = 'UnknownGatewayError';
  }
}

export interface RegistryEvents {
  revoked: [gatewayId: string];
  enrolled: [gatewayId: string];
  assigned: [gatewayId: string];
  viewerRevoked: [viewerId: string];
}

/** Default lifetime of an enrollment token when the admin does not give one. */
export const DEFAULT_ENROLLMENT_TTL_S = 24 * 3600;

const hash = (token: string) => createHash('sha256').update(token).digest();
const newToken = () => randomBytes(32).toString('base64url');

export function canView(viewer: Viewer, patientId: string): boolean {
  return viewer.patientIds.includes('*') || viewer.patientIds.includes(patientId);
}

export function patientRef(gateway: GatewayRecord): PatientRef {
  return {
    patientId: gateway.patient.patientId,
    displayName: gateway.patient.displayName,
    bed: gateway.patient.bed,
    gatewayId: gateway.gatewayId,
  };
}

/** One row of a gateway's assignment history. */
interface Assignment {
  fromMs: number;
  patient: PatientAssignment;
}

interface GatewayRow {
  gateway_id: string;
  patient: string;
  state: GatewayState;
  public_key_jwk: string;
  enrolled_at: number;
  revoked_at: number | null;
}

export class DeviceRegistry extends EventEmitter<RegistryEvents> {
  private readonly db: Database.Database;
  private readonly keys = new Map<string, Promise<CryptoKey | Uint8Array>>();
  /** Prepared once: gateway look-ups run for every ingested message, and preparing is most of their cost. */
  private readonly prepared = new Map<string, Database.Statement>();
  private readonly records = new Map<string, GatewayRecord>();
  private readonly assignments = new Map<string, readonly Assignment[]>();

  private stmt(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  /** `path` is a SQLite file, or ':memory:'. */
  constructor(
    path: string,
    private readonly clock: Clock,
  ) {
    super();
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS gateways (
        gateway_id TEXT PRIMARY KEY,
        patient TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
        public_key_jwk TEXT NOT NULL,
        enrolled_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE TABLE IF NOT EXISTS enrollments (
        token_hash BLOB PRIMARY KEY,
        gateway_id TEXT NOT NULL,
        patient TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      );
      -- Who the gateway measured, from when (relay clock): readings replayed from a gateway's outbox after
      -- it was moved to another patient still belong to the patient they were measured on.
      CREATE TABLE IF NOT EXISTS assignments (
        gateway_id TEXT NOT NULL,
        from_ms INTEGER NOT NULL,
        patient TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS assignments_by_gateway ON assignments (gateway_id, from_ms);
      CREATE TABLE IF NOT EXISTS viewers (
        viewer_id TEXT PRIMARY KEY,
        token_hash BLOB NOT NULL UNIQUE,
        name TEXT NOT NULL,
        patient_ids TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `);
  }

  createEnrollment(gatewayId: string, patient: PatientAssignment, ttlSeconds = DEFAULT_ENROLLMENT_TTL_S) {
    if (!isGatewayId(gatewayId)) throw new Error(`invalid gateway id "${gatewayId}"`);
    const enrollmentToken = newToken();
    const now = this.clock.now();
    const expiresAt = now + ttlSeconds * 1000;
    this.stmt('INSERT INTO enrollments (token_hash, gateway_id, patient, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(
      hash(enrollmentToken),
      gatewayId,
      JSON.stringify(patient),
      now,
      expiresAt,
    );
    return { enrollmentToken, gatewayId, expiresAt };
  }

  /**
   * Redeems a one-time token: the gateway's key is registered (replacing an
   * earlier one, so a re-imaged gateway can enroll again) and it becomes active.
   */
  async enroll(enrollmentToken: string, gatewayId: string, publicKeyJwk: JWK): Promise<GatewayRecord> {
    try {
      const key = await importJWK({ kty: publicKeyJwk.kty, crv: publicKeyJwk.crv, x: publicKeyJwk.x, y: publicKeyJwk.y }, DEVICE_TOKEN_ALG);
      if (!(key instanceof CryptoKey) || key.type !== 'public') throw new Error('not a public key');
    } catch (error) {
      throw new EnrollmentError('bad-key', 'publicKeyJwk is not a usable P-256 public key', { cause: error });
    }
    const jwk: JWK = { kty: 'EC', crv: 'P-256', x: publicKeyJwk.x, y: publicKeyJwk.y };
    const now = this.clock.now();
    const redeem = this.db.transaction(() => {
      const row = this.stmt('SELECT gateway_id, patient, expires_at, used_at FROM enrollments WHERE token_hash = ?').get(
        hash(enrollmentToken),
      ) as { gateway_id: string; patient: string; expires_at: number; used_at: number | null } | undefined;
      if (!row) throw new EnrollmentError('unknown-token', 'unknown enrollment token');
      if (row.used_at !== null) throw new EnrollmentError('token-used', 'enrollment token was already used');
      if (now >= row.expires_at) throw new EnrollmentError('token-expired', 'enrollment token has expired');
      if (row.gateway_id !== gatewayId) throw new EnrollmentError('gateway-mismatch', 'enrollment token was issued for another gateway id');
      this.stmt('UPDATE enrollments SET used_at = ? WHERE token_hash = ?').run(now, hash(enrollmentToken));
      this.stmt(
        `INSERT INTO gateways (gateway_id, patient, state, public_key_jwk, enrolled_at, revoked_at) VALUES (?, ?, 'active', ?, ?, NULL)
           ON CONFLICT (gateway_id) DO UPDATE SET patient = excluded.patient, state = 'active', public_key_jwk = excluded.public_key_jwk,
             enrolled_at = excluded.enrolled_at, revoked_at = NULL`,
      ).run(gatewayId, row.patient, JSON.stringify(jwk), now);
      this.stmt('INSERT INTO assignments (gateway_id, from_ms, patient) VALUES (?, ?, ?)').run(gatewayId, now, row.patient);
    });
    redeem.immediate();
    this.forget(gatewayId);
    this.emit('enrolled', gatewayId);
    return this.getGateway(gatewayId)!;
  }

  /** Read for every ingested message, so kept in memory; every change below goes through `forget`. */
  getGateway(gatewayId: string): GatewayRecord | null {
    const cached = this.records.get(gatewayId);
    if (cached) return cached;
    const row = this.stmt('SELECT * FROM gateways WHERE gateway_id = ?').get(gatewayId) as GatewayRow | undefined;
    if (!row) return null;
    const record = toRecord(row);
    Object.freeze(record.patient);
    Object.freeze(record);
    this.records.set(gatewayId, record);
    return record;
  }

  private forget(gatewayId: string): void {
    this.records.delete(gatewayId);
    this.assignments.delete(gatewayId);
    this.keys.delete(gatewayId);
  }

  /**
   * The patient the gateway was assigned to at `tMs` (relay clock): the
   * assignment in force then, or the earliest one for a time before it.
   */
  patientAt(gatewayId: string, tMs: number): PatientAssignment | null {
    const history = this.assignmentHistory(gatewayId);
    if (history.length === 0) return this.getGateway(gatewayId)?.patient ?? null;
    // Oldest first: the last one that began at or before tMs, else the earliest.
    let found = history[0] as Assignment;
    for (const assignment of history) {
      if (assignment.fromMs > tMs) break;
      found = assignment;
    }
    return found.patient;
  }

  /** A gateway's assignments, oldest first (ties in insertion order); cached like the records, dropped by `forget`. */
  private assignmentHistory(gatewayId: string): readonly Assignment[] {
    const cached = this.assignments.get(gatewayId);
    if (cached) return cached;
    const rows = this.stmt('SELECT from_ms, patient FROM assignments WHERE gateway_id = ? ORDER BY from_ms, rowid').all(
      gatewayId,
    ) as Array<{
      from_ms: number;
      patient: string;
    }>;
    const history = rows.map((r) =>
      Object.freeze({ fromMs: r.from_ms, patient: Object.freeze(JSON.parse(r.patient) as PatientAssignment) }),
    );
    this.assignments.set(gatewayId, history);
    return history;
  }

  listGateways(): GatewayRecord[] {
    return (this.stmt('SELECT * FROM gateways ORDER BY gateway_id').all() as GatewayRow[]).map(toRecord);
  }

  /** The key to verify this gateway's tokens with; null unless the gateway is active. */
  publicKey(gatewayId: string): Promise<CryptoKey | Uint8Array> | null {
    const gateway = this.getGateway(gatewayId);
    if (gateway?.state !== 'active') return null;
    let key = this.keys.get(gatewayId);
    if (!key) {
      key = importJWK(gateway.publicKeyJwk, DEVICE_TOKEN_ALG);
      this.keys.set(gatewayId, key);
    }
    return key;
  }

  assignPatient(gatewayId: string, patient: PatientAssignment): GatewayRecord {
    const now = this.clock.now();
    const changed = this.db.transaction(() => {
      const n = this.stmt('UPDATE gateways SET patient = ? WHERE gateway_id = ?').run(JSON.stringify(patient), gatewayId).changes;
      if (n > 0)
        this.stmt('INSERT INTO assignments (gateway_id, from_ms, patient) VALUES (?, ?, ?)').run(gatewayId, now, JSON.stringify(patient));
      return n;
    })();
    this.forget(gatewayId);
    if (changed === 0) throw new UnknownGatewayError(gatewayId);
    this.emit('assigned', gatewayId);
    return this.getGateway(gatewayId)!;
  }

  /** Refuses the gateway from now on; listeners disconnect its live session. */
  revoke(gatewayId: string): GatewayRecord {
    const now = this.clock.now();
    const changed = this.db.transaction(() => {
      const n = this.stmt("UPDATE gateways SET state = 'revoked', revoked_at = ? WHERE gateway_id = ?").run(now, gatewayId).changes;
      // An enrollment token still outstanding would let the revoked gateway back in: it expires with the revocation.
      if (n > 0)
        this.stmt('UPDATE enrollments SET expires_at = ? WHERE gateway_id = ? AND used_at IS NULL AND expires_at > ?').run(
          now,
          gatewayId,
          now,
        );
      return n;
    })();
    this.forget(gatewayId);
    if (changed === 0) throw new UnknownGatewayError(gatewayId);
    this.emit('revoked', gatewayId);
    return this.getGateway(gatewayId)!;
  }

  createViewer(name: string, patientIds: readonly string[]): { viewerId: string; viewerToken: string } {
    const viewerToken = newToken();
    const viewerId = randomBytes(8).toString('hex');
    this.stmt('INSERT INTO viewers (viewer_id, token_hash, name, patient_ids, created_at) VALUES (?, ?, ?, ?, ?)').run(
      viewerId,
      hash(viewerToken),
      name,
      JSON.stringify(patientIds),
      this.clock.now(),
    );
    return { viewerId, viewerToken };
  }

  findViewer(viewerToken: string): Viewer | null {
    const row = this.stmt('SELECT viewer_id, name, patient_ids FROM viewers WHERE token_hash = ?').get(hash(viewerToken)) as
      | { viewer_id: string; name: string; patient_ids: string }
      | undefined;
    return row ? { viewerId: row.viewer_id, name: row.name, patientIds: JSON.parse(row.patient_ids) as string[] } : null;
  }

  /** Deletes a viewer token; listeners close its open dashboard sessions. False when there was none. */
  revokeViewer(viewerId: string): boolean {
    const removed = this.stmt('DELETE FROM viewers WHERE viewer_id = ?').run(viewerId).changes > 0;
    if (removed) this.emit('viewerRevoked', viewerId);
    return removed;
  }

  close(): void {
    this.db.close();
  }
}

function toRecord(row: GatewayRow): GatewayRecord {
  return {
    gatewayId: row.gateway_id,
    patient: JSON.parse(row.patient) as PatientAssignment,
    state: row.state,
    publicKeyJwk: JSON.parse(row.public_key_jwk) as JWK,
    enrolledAt: row.enrolled_at,
    revokedAt: row.revoked_at,
  };
}

/** Constant-time comparison for the admin bearer token. */
export function sameSecret(a: string, b: string): boolean {
  const ha = hash(a);
  const hb = hash(b);
  return timingSafeEqual(ha, hb);
}
