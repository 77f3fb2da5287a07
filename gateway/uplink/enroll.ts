/**
 * Enrollment client (protocol/enrollment.ts): presents the one-time
 * enrollment token with the gateway's public key, once, and remembers the
 * audience the relay answered with in `<keyDir>/enrollment.json`.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ENROLLMENT_PATHS, type EnrollRequest, EnrollResponse } from '../../protocol/enrollment.ts';
import { loadOrCreateDeviceKey } from './device-key.ts';

export const ENROLLMENT_FILE = 'enrollment.json';

export interface Enrollment {
  gatewayId: string;
  audience: string;
  relayHttpUrl: string;
  enrolledAt: number;
}

export class EnrollmentError extends Error {
  override name = 'EnrollmentError';
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What a previous enrollment stored, or null if this gateway was never enrolled (or the file is unreadable). */
export function readEnrollment(keyDir: string): Enrollment | null {
  const file = join(keyDir, ENROLLMENT_FILE);
  if (!existsSync(file)) return null;
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Enrollment;
    if (typeof value.gatewayId !== 'string' || typeof value.audience !== 'string' || value.audience.length === 0) return null;
    return value;
  } catch {
    return null;
  }
}

export async function enrollGateway(opts: {
  relayHttpUrl: string;
  enrollmentToken: string;
  gatewayId: string;
  keyDir: string;
  timeoutMs?: number;
  nowMs?: number;
}): Promise<{ audience: string }> {
  const key = await loadOrCreateDeviceKey(opts.keyDir);
  const body: EnrollRequest = {
    enrollmentToken: opts.enrollmentToken,
    gatewayId: opts.gatewayId,
    publicKeyJwk: { kty: 'EC', crv: 'P-256', x: String(key.publicJwk.x), y: String(key.publicJwk.y) },
  };
  const url = new URL(ENROLLMENT_PATHS.enroll, opts.relayHttpUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
  } catch (error) {
    throw new EnrollmentError(`cannot reach the relay at ${url.origin}: ${(error as Error).message}`, undefined, { cause: error });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const detail = (parsed as { message?: unknown } | undefined)?.message;
    throw new EnrollmentError(
      `enrollment refused (HTTP ${response.status}): ${typeof detail === 'string' ? detail : text.slice(0, 200)}`,
      response.status,
    );
  }
  if (!Value.Check(EnrollResponse, parsed))
    throw new EnrollmentError(`unexpected enrollment answer: ${text.slice(0, 200)}`, response.status);
  if (parsed.gatewayId !== opts.gatewayId) throw new EnrollmentError(`relay enrolled "${parsed.gatewayId}", expected "${opts.gatewayId}"`);
  const enrollment: Enrollment = {
    gatewayId: opts.gatewayId,
    audience: parsed.audience,
    relayHttpUrl: opts.relayHttpUrl,
    enrolledAt: opts.nowMs ?? Date.now(),
  };
  const file = join(opts.keyDir, ENROLLMENT_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(enrollment, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return { audience: parsed.audience };
}
