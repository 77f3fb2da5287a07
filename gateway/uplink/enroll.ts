/**
 * Enrollment client (protocol/enrollment.ts): presents the one-time
 * enrollment token with the gateway's public key, once, and remembers the
 * audience the relay answered with in `<keyDir>/enrollment.json`.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
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
  let response: { status: number; text: string };
  try {
    response = await postJson(url, JSON.stringify(body), opts.timeoutMs ?? 15_000);
  } catch (error) {
    throw new EnrollmentError(`cannot reach the relay at ${url.origin}: ${(error as Error).message}`, undefined, { cause: error });
  }
  const { status, text } = response;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (status < 200 || status > 299) {
    const detail = (parsed as { message?: unknown } | undefined)?.message;
    throw new EnrollmentError(`enrollment refused (HTTP ${status}): ${typeof detail === 'string' ? detail : text.slice(0, 200)}`, status);
  }
  if (!Value.Check(EnrollResponse, parsed)) throw new EnrollmentError(`unexpected enrollment answer: ${text.slice(0, 200)}`, status);
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

/** Most of an enrollment answer read; a relay's answer is a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One JSON POST over node:http(s). Not `fetch`: loading undici for this one
 * request added about 30 MB to the gateway's peak memory at start.
 */
function postJson(url: URL, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) request.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
