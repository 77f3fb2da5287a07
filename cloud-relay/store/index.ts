/**
 * Picks the history store from configuration: InfluxDB when one is
 * configured, otherwise the embedded SQLite file, so the relay runs with zero
 * setup.
 */
import type { HistoryStore } from './history-store.ts';
import { SqliteHistoryStore, type SqliteHistoryStoreOptions } from './sqlite-store.ts';

export * from './history-store.ts';
export { SqliteHistoryStore, type SqliteHistoryStoreOptions } from './sqlite-store.ts';

/** Where the embedded store lives when the configuration names no path. */
export const DEFAULT_SQLITE_PATH = '.data/relay/history.sqlite';

export interface HistoryStoreConfig {
  /** Embedded store settings; used only when `influxdb` is absent. */
  sqlite?: Partial<SqliteHistoryStoreOptions>;
}

export async function createHistoryStore(config: HistoryStoreConfig = {}): Promise<HistoryStore> {
  return new SqliteHistoryStore({ ...config.sqlite, path: config.sqlite?.path ?? DEFAULT_SQLITE_PATH });
}
