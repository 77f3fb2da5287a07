/**
 * The gateway's one typed configuration, from an optional JSON file and
 * VIGIL_* environment variables (environment wins). Validation names the bad
 * key, so a technician can fix a config without reading code.
 */
import { readFileSync } from 'node:fs';
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { GATEWAY_ID_PATTERN } from '../protocol/topics.ts';

export const GatewayConfigSchema = T.Object(
  {
    gatewayId: T.String({ pattern: GATEWAY_ID_PATTERN }),
    dataDir: T.String({ minLength: 1, description: 'outbox database and device key live here' }),
    relay: T.Object(
      {
        httpUrl: T.String({ pattern: '^https?://', description: 'enrollment API' }),
        mqttUrl: T.String({ pattern: '^(mqtt|mqtts|ws|wss)://' }),
        audience: T.Optional(T.String({ minLength: 1 })),
        caFile: T.Optional(T.String({ minLength: 1, description: 'pinned CA for mqtts' })),
      },
      { additionalProperties: false },
    ),
    enrollmentToken: T.Optional(T.String({ minLength: 16, description: 'one-time token; used only until the gateway is enrolled' })),
    sensor: T.Object(
      {
        mode: T.Union([T.Literal('auto'), T.Literal('hardware'), T.Literal('emulator')], { default: 'auto' }),
        scenarioFile: T.Optional(T.String({ minLength: 1, description: 'emulator scenario timeline (JSON)' })),
        sampleRateHz: T.Optional(
          T.Union(
            [50, 100, 200, 400, 800, 1000, 1600, 3200].map((rate) => T.Literal(rate)),
            {
              description: 'MAX30102 SPO2_SR; the datasheet refuses some pulse widths at high rates',
            },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    signal: T.Object({ calibration: T.String({ minLength: 1, default: 'max30102' }) }, { additionalProperties: false, default: {} }),
    alarms: T.Object(
      { limitsFile: T.Optional(T.String({ minLength: 1, description: 'per-patient limits document (docs/ALARMS.md)' })) },
      { additionalProperties: false, default: {} },
    ),
    clock: T.Object(
      {
        assumeSynced: T.Boolean({
          default: false,
          description: 'trust the wall clock without systemd-timesyncd (a Pi with an RTC, or disciplined by other means)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    logLevel: T.Union([T.Literal('debug'), T.Literal('info'), T.Literal('warn'), T.Literal('error')], { default: 'info' }),
  },
  { additionalProperties: false },
);
export type GatewayConfig = Static<typeof GatewayConfigSchema>;

const ajv = new Ajv({ useDefaults: true, coerceTypes: true, allErrors: false, strict: true, strictTypes: false });
const check = ajv.compile(GatewayConfigSchema);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variable → config path. */
const ENV_KEYS: Record<string, string[]> = {
  VIGIL_GATEWAY_ID: ['gatewayId'],
  VIGIL_DATA_DIR: ['dataDir'],
  VIGIL_RELAY_HTTP_URL: ['relay', 'httpUrl'],
  VIGIL_RELAY_MQTT_URL: ['relay', 'mqttUrl'],
  VIGIL_RELAY_AUDIENCE: ['relay', 'audience'],
  VIGIL_RELAY_CA_FILE: ['relay', 'caFile'],
  VIGIL_ENROLLMENT_TOKEN: ['enrollmentToken'],
  VIGIL_SENSOR_MODE: ['sensor', 'mode'],
  VIGIL_SCENARIO_FILE: ['sensor', 'scenarioFile'],
  VIGIL_SAMPLE_RATE_HZ: ['sensor', 'sampleRateHz'],
  VIGIL_CALIBRATION: ['signal', 'calibration'],
  VIGIL_LIMITS_FILE: ['alarms', 'limitsFile'],
  VIGIL_ASSUME_CLOCK_SYNCED: ['clock', 'assumeSynced'],
  VIGIL_LOG_LEVEL: ['logLevel'],
};

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Builds and validates the config; throws ConfigError naming the offending key. */
export function loadGatewayConfig(
  opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {},
): GatewayConfig {
  let raw: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read config file ${opts.file}: ${(error as Error).message}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`config file ${opts.file} is not JSON: ${(error as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ConfigError(`config file ${opts.file} must hold a JSON object`);
  }
  const env = opts.env ?? process.env;
  for (const [name, path] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, value);
  }
  for (const [key, value] of Object.entries(opts.overrides ?? {})) setPath(raw, key.split('.'), value);
  if (!check(raw)) {
    const error = check.errors?.[0];
    const where = error?.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : '(root)';
    const detail =
      error?.keyword === 'additionalProperties'
        ? `unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`
        : (error?.message ?? 'invalid');
    throw new ConfigError(`invalid gateway config at ${where}: ${detail}`);
  }
  return raw as GatewayConfig;
}
