/**
 * The relay's one typed configuration, from an optional JSON file and VIGIL_*
 * environment variables (environment wins). Validation names the bad key.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { ConfigError, type EnvKey, loadConfig } from '../protocol/config-file.ts';
import type { RelayConfig } from './relay.ts';
import { HistoryStoreConfigSchema } from './store/config.ts';

const Port = T.Integer({ minimum: 0, maximum: 65535 });

export const RelayConfigSchema = T.Object(
  {
    host: T.Optional(T.String({ minLength: 1, description: 'interface to listen on; 127.0.0.1 by default' })),
    mqttPort: T.Optional(Port),
    mqttTlsPort: T.Optional(Port),
    mqttWsPort: T.Optional(Port),
    httpPort: T.Optional(Port),
    dataDir: T.String({ minLength: 1, default: '.data/relay', description: 'registry, spool and embedded history' }),
    adminToken: T.Optional(T.String({ minLength: 16 })),
    audience: T.Optional(T.String({ minLength: 1 })),
    tls: T.Optional(
      T.Object(
        {
          certFile: T.String({ minLength: 1 }),
          keyFile: T.String({ minLength: 1 }),
          http: T.Optional(T.Boolean({ description: 'serve HTTP over HTTPS with the same certificate' })),
        },
        { additionalProperties: false },
      ),
    ),
    /** InfluxDB or embedded SQLite (cloud-relay/store/config.ts); absent: embedded SQLite in dataDir. */
    store: T.Optional(HistoryStoreConfigSchema),
    logLevel: T.Union([T.Literal('debug'), T.Literal('info'), T.Literal('warn'), T.Literal('error'), T.Literal('silent')], {
      default: 'info',
    }),
    limits: T.Optional(
      T.Object(
        {
          maxPacketBytes: T.Optional(T.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024 })),
          connectTimeoutMs: T.Optional(T.Integer({ minimum: 100 })),
          connectionsPerWindow: T.Optional(T.Integer({ minimum: 0 })),
          connectionWindowMs: T.Optional(T.Integer({ minimum: 1000 })),
          maxInflightInbound: T.Optional(T.Integer({ minimum: 1 })),
          queueLimit: T.Optional(T.Integer({ minimum: 1 })),
          keepaliveLimitS: T.Optional(T.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    drain: T.Optional(
      T.Object(
        {
          batchSize: T.Optional(T.Integer({ minimum: 1, maximum: 10_000 })),
          maxBatchRows: T.Optional(T.Integer({ minimum: 1, maximum: 100_000 })),
          concurrency: T.Optional(T.Integer({ minimum: 1, maximum: 8 })),
          minBackoffMs: T.Optional(T.Integer({ minimum: 1 })),
          maxBackoffMs: T.Optional(T.Integer({ minimum: 1 })),
          shutdownDeadlineMs: T.Optional(T.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    maxSpoolRows: T.Optional(T.Integer({ minimum: 1 })),
    dedupeWindowDays: T.Optional(T.Number({ minimum: 0.1 })),
    dashboardDir: T.Optional(T.Union([T.String({ minLength: 1 }), T.Literal(false)])),
  },
  { additionalProperties: false },
);
export type RelayFileConfig = Static<typeof RelayConfigSchema>;

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true, strictTypes: false });
const check = ajv.compile(RelayConfigSchema);

export { ConfigError };

type Parse = NonNullable<EnvKey['parse']>;
const str: Parse = (v) => v;
const bool: Parse = (v, name) => {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`${name}: "${v}" is not true or false`);
};
const int: Parse = (v, name) => {
  if (!/^-?\d+$/.test(v.trim())) throw new ConfigError(`${name}: "${v}" is not an integer`);
  return Number(v);
};

/** Environment variable → config path and parser. */
export const ENV_KEYS: Record<string, EnvKey> = {
  VIGIL_RELAY_HOST: { path: ['host'], parse: str },
  VIGIL_MQTT_PORT: { path: ['mqttPort'], parse: int },
  VIGIL_MQTT_TLS_PORT: { path: ['mqttTlsPort'], parse: int },
  VIGIL_MQTT_WS_PORT: { path: ['mqttWsPort'], parse: int },
  VIGIL_HTTP_PORT: { path: ['httpPort'], parse: int },
  VIGIL_DATA_DIR: { path: ['dataDir'], parse: str },
  VIGIL_ADMIN_TOKEN: { path: ['adminToken'], parse: str },
  VIGIL_RELAY_AUDIENCE: { path: ['audience'], parse: str },
  VIGIL_TLS_CERT_FILE: { path: ['tls', 'certFile'], parse: str },
  VIGIL_TLS_KEY_FILE: { path: ['tls', 'keyFile'], parse: str },
  VIGIL_TLS_HTTP: { path: ['tls', 'http'], parse: bool },
  VIGIL_LOG_LEVEL: { path: ['logLevel'], parse: str },
  VIGIL_DASHBOARD_DIR: { path: ['dashboardDir'], parse: str },
  VIGIL_INFLUX_URL: { path: ['store', 'influxdb', 'url'], parse: str },
  VIGIL_INFLUX_DATABASE: { path: ['store', 'influxdb', 'database'], parse: str },
  VIGIL_INFLUX_WRITE_API: { path: ['store', 'influxdb', 'writeApi'], parse: str },
  VIGIL_INFLUX_TOKEN: { path: ['store', 'influxdb', 'token'], parse: str },
  VIGIL_INFLUX_USERNAME: { path: ['store', 'influxdb', 'username'], parse: str },
  VIGIL_INFLUX_PASSWORD: { path: ['store', 'influxdb', 'password'], parse: str },
  VIGIL_INFLUX_ORG: { path: ['store', 'influxdb', 'org'], parse: str },
  VIGIL_INFLUX_BUCKET: { path: ['store', 'influxdb', 'bucket'], parse: str },
  VIGIL_SQLITE_PATH: { path: ['store', 'sqlite', 'path'], parse: str },
};

/** Builds and validates the config; throws ConfigError naming the offending key. */
export function loadRelayConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): RelayFileConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.VIGIL_RELAY_CONFIG;
  const config = loadConfig<RelayFileConfig>({ what: 'relay config', ...(file ? { file } : {}), env, envKeys: ENV_KEYS, check });
  if (config.mqttTlsPort !== undefined && !config.tls)
    throw new ConfigError('invalid relay config at mqttTlsPort: needs tls.certFile and tls.keyFile');
  return config;
}

/** The file config as startRelay's input. */
export function toRelayConfig(config: RelayFileConfig): RelayConfig {
  return config as RelayConfig;
}
