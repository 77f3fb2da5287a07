/**
 * How both processes read their configuration: an optional JSON file, then
 * VIGIL_* environment variables over it (the environment wins), validated
 * against the process's schema with a message that names the offending key.
 * The keys themselves are each process's own (gateway/config.ts,
 * cloud-relay/config.ts; docs/OPERATIONS.md).
 */
import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Where an environment variable goes in the config, and how its text becomes a value (as is by default). */
export interface EnvKey {
  path: string[];
  parse?: (value: string, name: string) => unknown;
}

export interface ConfigSources {
  /** What is configured, for messages: "gateway config", "relay config". */
  what: string;
  file?: string;
  env: NodeJS.ProcessEnv;
  envKeys: Record<string, EnvKey>;
  /** Dotted paths set last (tests, command-line options). */
  overrides?: Record<string, unknown>;
  /** The compiled schema; it may fill defaults in. */
  check: ValidateFunction;
}

/** Reads, merges and validates; throws ConfigError naming the file or the key at fault. */
export function loadConfig<T>({ what, file, env, envKeys, overrides, check }: ConfigSources): T {
  const raw = file ? readConfigFile(file) : {};
  for (const [name, { path, parse }] of Object.entries(envKeys)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, parse ? parse(value, name) : value);
  }
  for (const [key, value] of Object.entries(overrides ?? {})) setPath(raw, key.split('.'), value);
  if (!check(raw)) {
    const error = check.errors?.[0];
    const where = error?.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : '(root)';
    const detail =
      error?.keyword === 'additionalProperties'
        ? `unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`
        : (error?.message ?? 'invalid');
    throw new ConfigError(`invalid ${what} at ${where}: ${detail}`);
  }
  return raw as T;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  return raw as Record<string, unknown>;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}
