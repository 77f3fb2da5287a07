/**
 * History in InfluxDB: line protocol out through the write API the server
 * speaks (chosen from `/ping` or configuration), InfluxQL back on `/query`.
 *
 * Nothing here blocks start-up on InfluxDB: the write API is chosen on first
 * use and chosen again on a later call if the server could not be reached, so
 * the relay starts while InfluxDB is down and its spool grows until it is back.
 */
import { setLogger } from '@influxdata/influxdb-client';
import { type HistoryStore, HistoryStoreError, type ReadingQuery, type StoredAlarmEvent, type StoredReading } from './history-store.ts';
import { type HistoryReader, InfluxQlReader, influxQlIdentifier } from './influx/influxql.ts';
import { alarmEventPoint, readingLine, toLines } from './influx/points.ts';
import {
  authorizationHeader,
  chooseWriteApi,
  type InfluxConnection,
  type LineWriter,
  V1LineWriter,
  V2ClientWriter,
  type WriteApiKind,
} from './influx/write-api.ts';

export interface InfluxHistoryStoreOptions {
  /** e.g. http://influxdb.internal:8086 */
  url: string;
  /** 1.x database (and the default v2 bucket name). */
  database: string;
  retentionPolicy?: string;
  /** 'auto' (default) reads X-Influxdb-Version from /ping: < 1.8 → v1 /write, otherwise /api/v2/write. */
  writeApi?: 'auto' | WriteApiKind;
  token?: string;
  username?: string;
  password?: string;
  org?: string;
  bucket?: string;
  /** Per HTTP request; default 10 s. */
  timeoutMs?: number;
  /**
   * On the v1 path, `CREATE DATABASE` (idempotent) before the first write so a
   * fresh 1.x server needs no setup. Default true; turn off when the relay's
   * InfluxDB user may only write.
   */
  createDatabase?: boolean;
  /** Replaces the InfluxQL reader (tests against a server without InfluxQL). */
  reader?: HistoryReader;
}

// The client logs every failed write to the console; this store reports failures by throwing instead.
setLogger({ error() {}, warn() {} });

export class InfluxHistoryStore implements HistoryStore {
  readonly #options: InfluxHistoryStoreOptions;
  readonly #connection: InfluxConnection;
  readonly #reader: HistoryReader;
  #writer: LineWriter | null = null;
  #choosing: Promise<LineWriter> | null = null;
  #closed = false;

  constructor(options: InfluxHistoryStoreOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (error) {
      throw new HistoryStoreError(`influxdb.url "${options.url}" is not a URL`, { cause: error, retryable: false });
    }
    if (!options.database) throw new HistoryStoreError('influxdb.database is required', { retryable: false });
    this.#options = options;
    this.#connection = {
      url: url.href.replace(/\/+$/, ''),
      database: options.database,
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.retentionPolicy ? { retentionPolicy: options.retentionPolicy } : {}),
      ...(options.token ? { token: options.token } : {}),
      ...(options.username !== undefined ? { username: options.username, password: options.password ?? '' } : {}),
      ...(options.org ? { org: options.org } : {}),
      ...(options.bucket ? { bucket: options.bucket } : {}),
    };
    this.#reader = options.reader ?? new InfluxQlReader(this.#connection);
  }

  /** The write API in use, once chosen. */
  get writeApi(): WriteApiKind | null {
    return this.#writer?.kind ?? null;
  }

  async writeReadings(readings: readonly StoredReading[]): Promise<void> {
    if (readings.length === 0) return this.#checkOpen('write readings');
    await this.#write('readings', () => toLines(readings, readingLine));
  }

  async writeAlarmEvents(events: readonly StoredAlarmEvent[]): Promise<void> {
    if (events.length === 0) return this.#checkOpen('write alarm events');
    await this.#write('alarm events', () => toLines(events, alarmEventPoint));
  }

  async queryReadings(query: ReadingQuery): Promise<StoredReading[]> {
    this.#checkOpen('query readings');
    await this.#chosenWriter(); // a fresh 1.x server gets its database first
    return this.#reader.queryReadings(query);
  }

  async queryAlarmEvents(query: ReadingQuery): Promise<StoredAlarmEvent[]> {
    this.#checkOpen('query alarm events');
    await this.#chosenWriter();
    return this.#reader.queryAlarmEvents(query);
  }

  async ping(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await this.#chosenWriter();
      const response = await fetch(`${this.#connection.url}/ping`, { signal: AbortSignal.timeout(this.#connection.timeoutMs) });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#writer?.close();
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new HistoryStoreError(`cannot ${what}: the InfluxDB history store is closed`, { retryable: false });
  }

  async #write(what: string, lines: () => string[]): Promise<void> {
    this.#checkOpen(`write ${what}`);
    let body: string[];
    try {
      body = lines();
    } catch (error) {
      throw new HistoryStoreError(`cannot express ${what} as line protocol: ${(error as Error).message}`, {
        cause: error,
        retryable: false,
      });
    }
    const writer = await this.#chosenWriter();
    await writer.write(body);
  }

  /** The writer, choosing it first if needed; concurrent callers share one choice. */
  async #chosenWriter(): Promise<LineWriter> {
    if (this.#writer) return this.#writer;
    this.#choosing ??= this.#choose().finally(() => {
      this.#choosing = null;
    });
    this.#writer = await this.#choosing;
    return this.#writer;
  }

  async #choose(): Promise<LineWriter> {
    const configured = this.#options.writeApi ?? 'auto';
    const version = configured === 'auto' ? await this.#pingVersion() : null;
    const kind = configured === 'auto' ? chooseWriteApi(version) : configured;
    // InfluxDB 2.x refuses a write without an organisation; say so before the first batch bounces.
    if (/^v?2\./.test(version ?? '') && !this.#connection.org) {
      throw new HistoryStoreError(`InfluxDB ${version} needs influxdb.org (and a token) in the relay configuration`, { retryable: false });
    }
    if (kind === 'v2') return new V2ClientWriter(this.#connection);
    if (this.#options.createDatabase ?? true) await this.#createDatabase();
    return new V1LineWriter(this.#connection);
  }

  async #pingVersion(): Promise<string | null> {
    let response: Response;
    try {
      response = await fetch(`${this.#connection.url}/ping`, { signal: AbortSignal.timeout(this.#connection.timeoutMs) });
      await response.body?.cancel();
    } catch (error) {
      throw new HistoryStoreError(`InfluxDB /ping unreachable: ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok) throw new HistoryStoreError(`InfluxDB /ping answered ${response.status}`);
    return response.headers.get('x-influxdb-version');
  }

  async #createDatabase(): Promise<void> {
    const auth = authorizationHeader(this.#connection);
    let response: Response;
    try {
      response = await fetch(`${this.#connection.url}/query`, {
        method: 'POST',
        headers: auth ? { authorization: auth } : {},
        body: new URLSearchParams({ q: `CREATE DATABASE ${influxQlIdentifier(this.#connection.database)}` }),
        signal: AbortSignal.timeout(this.#connection.timeoutMs),
      });
    } catch (error) {
      throw new HistoryStoreError(`InfluxDB unreachable while creating the database: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (!response.ok || text.includes('"error"')) {
      throw new HistoryStoreError(
        `InfluxDB refused CREATE DATABASE ${this.#connection.database}: ${response.status} ${text.slice(0, 300)}`,
        {
          retryable: response.status >= 500,
        },
      );
    }
  }
}
