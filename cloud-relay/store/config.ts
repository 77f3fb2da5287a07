/**
 * The history store's section of the relay configuration (`store` in the
 * relay's config file), validated here so a typo is refused with the key
 * named instead of silently falling back to the embedded store.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { HistoryStoreError } from './history-store.ts';

export const InfluxConfigSchema = T.Object(
  {
    url: T.String({ pattern: '^https?://[^\\s]+$', description: 'InfluxDB base URL, e.g. http://influxdb:8086' }),
    database: T.String({ minLength: 1, maxLength: 200, description: '1.x database; also the default v2 bucket' }),
    retentionPolicy: T.Optional(T.String({ minLength: 1, maxLength: 200 })),
    writeApi: T.Optional(
      T.Union([T.Literal('auto'), T.Literal('v1'), T.Literal('v2')], {
        description: 'auto: from X-Influxdb-Version of /ping (< 1.8 → v1 /write, else /api/v2/write)',
      }),
    ),
    token: T.Optional(T.String({ minLength: 1, description: '2.x/3.x API token; for 1.8+ "user:password"' })),
    username: T.Optional(T.String({ minLength: 1 })),
    password: T.Optional(T.String()),
    org: T.Optional(T.String({ minLength: 1 })),
    bucket: T.Optional(T.String({ minLength: 1 })),
    timeoutMs: T.Optional(T.Integer({ minimum: 100, maximum: 600_000 })),
    createDatabase: T.Optional(T.Boolean({ description: 'v1 path: CREATE DATABASE before the first write (default true)' })),
  },
  { additionalProperties: false },
);

export const SqliteConfigSchema = T.Object(
  {
    path: T.Optional(T.String({ minLength: 1 })),
    synchronous: T.Optional(T.Union([T.Literal('FULL'), T.Literal('NORMAL')])),
  },
  { additionalProperties: false },
);

export const HistoryStoreConfigSchema = T.Object(
  {
    influxdb: T.Optional(InfluxConfigSchema),
    sqlite: T.Optional(SqliteConfigSchema),
  },
  { additionalProperties: false },
);
export type HistoryStoreFileConfig = Static<typeof HistoryStoreConfigSchema>;

const check = new Ajv({ allErrors: false, strict: true, strictTypes: false }).compile(HistoryStoreConfigSchema);

/** Throws a HistoryStoreError naming the offending key (`store.influxdb.url: ...`). */
export function checkHistoryStoreConfig(raw: unknown): asserts raw is HistoryStoreFileConfig {
  if (check(raw)) return;
  const error = check.errors?.[0];
  const where = `store${error?.instancePath ? error.instancePath.replaceAll('/', '.') : ''}`;
  const detail =
    error?.keyword === 'additionalProperties'
      ? `unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`
      : (error?.message ?? 'invalid');
  throw new HistoryStoreError(`relay config: ${where}: ${detail}`, { retryable: false });
}
