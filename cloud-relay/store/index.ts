/**
 * Picks the history store from configuration: InfluxDB when one is
 * configured, otherwise the embedded SQLite file, so the relay runs with zero
 * setup.
 */
import { checkHistoryStoreConfig } from './config.ts';
import type { HistoryStore } from './history-store.ts';
import { InfluxHistoryStore, type InfluxHistoryStoreOptions } from './influx-store.ts';
import { SqliteHistoryStore, type SqliteHistoryStoreOptions } from './sqlite-store.ts';

export { checkHistoryStoreConfig, HistoryStoreConfigSchema, type HistoryStoreFileConfig } from './config.ts';
export * from './history-store.ts';
export { type HistoryReader, InfluxQlReader } from './influx/influxql.ts';
export { chooseWriteApi, type WriteApiKind } from './influx/write-api.ts';
export { InfluxHistoryStore, type InfluxHistoryStoreOptions } from './influx-store.ts';
export { SqliteHistoryStore, type SqliteHistoryStoreOptions } from './sqlite-store.ts';

/** Where the embedded store lives when the configuration names no path. */
export const DEFAULT_SQLITE_PATH = '.data/relay/history.sqlite';

export interface HistoryStoreConfig {
  /** When present, history goes to InfluxDB. */
  influxdb?: InfluxHistoryStoreOptions;
  /** Embedded store settings; used only when `influxdb` is absent. */
  sqlite?: Partial<SqliteHistoryStoreOptions>;
}

/**
 * Validates the configuration (it usually comes from a file), then builds the
 * store. Never waits for InfluxDB: an unreachable server makes writes throw
 * (and the relay's spool hold the data) rather than keeping the relay from
 * starting.
 */
export async function createHistoryStore(config: HistoryStoreConfig = {}): Promise<HistoryStore> {
  const { reader: _reader, ...influxdb } = config.influxdb ?? {};
  checkHistoryStoreConfig({ ...config, ...(config.influxdb ? { influxdb } : {}) });
  if (config.influxdb) return new InfluxHistoryStore(config.influxdb);
  return new SqliteHistoryStore({ ...config.sqlite, path: config.sqlite?.path ?? DEFAULT_SQLITE_PATH });
}
