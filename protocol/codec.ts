/**
 * Encode and decode wire payloads. Decoding never throws: it returns the
 * value or a reason a person can read, so the relay can reject, count and
 * move on.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type MessageByKind, PAYLOAD_LIMITS, SCHEMAS } from './schemas.ts';
import type { TopicKind } from './topics.ts';

export type RejectCode = 'too-large' | 'not-json' | 'schema' | 'topic-mismatch';

export type Decoded<K extends TopicKind> = { ok: true; value: MessageByKind[K] } | { ok: false; code: RejectCode; reason: string };

const ajv = new Ajv({ allErrors: false, strict: true, strictTypes: false });
const validators = new Map<TopicKind, ValidateFunction>();
for (const [kind, schema] of Object.entries(SCHEMAS)) validators.set(kind as TopicKind, ajv.compile(schema));

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'invalid payload';
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown property "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  }
  if (error.keyword === 'const') return `${where}: must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  return `${where}: ${error.message ?? 'invalid'}`;
}

/** Validates an already-parsed value against the schema for `kind`. */
export function validate<K extends TopicKind>(kind: K, value: unknown): Decoded<K> {
  const check = validators.get(kind) as ValidateFunction;
  if (!check(value)) return { ok: false, code: 'schema', reason: describe(check.errors?.[0]) };
  return { ok: true, value: value as MessageByKind[K] };
}

export function decode<K extends TopicKind>(kind: K, payload: Uint8Array | string): Decoded<K> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  const limit = PAYLOAD_LIMITS[kind];
  if (size > limit) return { ok: false, code: 'too-large', reason: `payload of ${size} bytes exceeds the ${kind} limit of ${limit}` };
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (error) {
    return { ok: false, code: 'not-json', reason: `not JSON: ${(error as Error).message}` };
  }
  return validate(kind, value);
}

/** Serialises a message after checking it, so a gateway never sends what the relay would refuse. */
export function encode<K extends TopicKind>(kind: K, message: MessageByKind[K]): Buffer {
  const checked = validate(kind, message);
  if (!checked.ok) throw new Error(`refusing to encode an invalid ${kind} message: ${checked.reason}`);
  const bytes = Buffer.from(JSON.stringify(message));
  if (bytes.byteLength > PAYLOAD_LIMITS[kind]) {
    throw new Error(`${kind} message of ${bytes.byteLength} bytes exceeds the limit of ${PAYLOAD_LIMITS[kind]}`);
  }
  return bytes;
}
