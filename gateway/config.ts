/**
 * The gateway's one typed configuration, from an optional JSON file and
 * VIGIL_* environment variables (environment wins). Validation names the bad
 * key, so a technician can fix a config without reading code.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { ConfigError, type EnvKey, loadConfig } from '../protocol/config-file.ts';
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

export { ConfigError };

/** Environment variable → config path. */
const ENV_KEYS: Record<string, EnvKey> = {
  VIGIL_GATEWAY_ID: { path: ['gatewayId'] },
  VIGIL_DATA_DIR: { path: ['dataDir'] },
  VIGIL_RELAY_HTTP_URL: { path: ['relay', 'httpUrl'] },
  VIGIL_RELAY_MQTT_URL: { path: ['relay', 'mqttUrl'] },
  VIGIL_RELAY_AUDIENCE: { path: ['relay', 'audience'] },
  VIGIL_RELAY_CA_FILE: { path: ['relay', 'caFile'] },
  VIGIL_ENROLLMENT_TOKEN: { path: ['enrollmentToken'] },
  VIGIL_SENSOR_MODE: { path: ['sensor', 'mode'] },
  VIGIL_SCENARIO_FILE: { path: ['sensor', 'scenarioFile'] },
  VIGIL_SAMPLE_RATE_HZ: { path: ['sensor', 'sampleRateHz'] },
  VIGIL_CALIBRATION: { path: ['signal', 'calibration'] },
  VIGIL_LIMITS_FILE: { path: ['alarms', 'limitsFile'] },
  VIGIL_ASSUME_CLOCK_SYNCED: { path: ['clock', 'assumeSynced'] },
  VIGIL_LOG_LEVEL: { path: ['logLevel'] },
};

/** Builds and validates the config; throws ConfigError naming the offending key. */
export function loadGatewayConfig(
  opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {},
): GatewayConfig {
  return loadConfig<GatewayConfig>({
    what: 'gateway config',
    ...(opts.file ? { file: opts.file } : {}),
    env: opts.env ?? process.env,
    envKeys: ENV_KEYS,
    ...(opts.overrides ? { overrides: opts.overrides } : {}),
    check,
  });
}
