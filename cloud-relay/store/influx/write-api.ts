/**
 * The two ways line protocol reaches InfluxDB, and the choice between them.
 *
 * - v2: `/api/v2/write` through @influxdata/influxdb-client. Served by
 *   InfluxDB 1.8+ (compatibility endpoint, bucket "db/rp", token
 *   "user:password"), 2.x and 3.x.
 * - v1: `/write?db=..&precision=ms`, the 1.x HTTP API, for servers older than
 *   1.8 that have no `/api/v2`.
 *
 * Both send one request per call and never retry: the caller (the relay's
 * spool drainer) owns retry with backoff.
 */
import http from 'node:http';
import https from 'node:https';
import { HttpError, InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import { HistoryStoreError } from '../history-store.ts';

export type WriteApiKind = 'v1' | 'v2';

/**
 * Picks the write API from the `X-Influxdb-Version` header of `/ping`:
 * 1.x before 1.8 → v1; 1.8+, 2.x ("v2.7.1"), 3.x → v2. A missing or
 * unreadable header → v1, which every InfluxDB-compatible server since 0.9
 * accepts.
 */
export function chooseWriteApi(versionHeader: string | null | undefined): WriteApiKind {
  const match = /^v?(\d+)\.(\d+)/.exec(versionHeader?.trim() ?? '');
  if (!match) return 'v1';
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > 1 || (major === 1 && minor >= 8) ? 'v2' : 'v1';
}

export interface LineWriter {
  readonly kind: WriteApiKind;
  /** One request carrying every line; resolves once the server has accepted all of them. */
  write(lines: readonly string[]): Promise<void>;
  /** Releases kept-alive connections. */
  close(): void;
}

export interface InfluxConnection {
  /** e.g. http://127.0.0.1:8086 (no trailing path) */
  url: string;
  database: string;
  retentionPolicy?: string;
  /** Token for `Authorization: Token ...` (2.x/3.x; 1.8+ takes "user:password"). */
  token?: string;
  /** 1.x basic auth. */
  username?: string;
  password?: string;
  /** 2.x organisation; ignored by 1.8 and 3.x. */
  org?: string;
  /** 2.x/3.x bucket; defaults to "database/retentionPolicy" (the 1.8 mapping) or "database". */
  bucket?: string;
  /** Per request. */
  timeoutMs: number;
}

export function authorizationHeader(connection: InfluxConnection): string | undefined {
  if (connection.token) return `Token ${connection.token}`;
  if (connection.username !== undefined) {
    return `Basic ${Buffer.from(`${connection.username}:${connection.password ?? ''}`).toString('base64')}`;
  }
  return undefined;
}

/** 429 and 5xx may pass on their own; any other 4xx means this batch will never be accepted. */
function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The 1.x HTTP write API, line protocol POSTed to `/write`. Plain node:http
 * with a keep-alive agent: this runs once per drained batch, often once per
 * message at low rates, and fetch's stream and abort machinery cost several
 * times more CPU per request.
 */
export class V1LineWriter implements LineWriter {
  readonly kind = 'v1' as const;
  readonly #endpoint: URL;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  constructor(connection: InfluxConnection) {
    const params = new URLSearchParams({ db: connection.database, precision: 'ms' });
    if (connection.retentionPolicy) params.set('rp', connection.retentionPolicy);
    this.#endpoint = new URL(`${connection.url}/write?${params}`);
    const auth = authorizationHeader(connection);
    this.#headers = { 'content-type': 'text/plain; charset=utf-8', ...(auth ? { authorization: auth } : {}) };
    this.#timeoutMs = connection.timeoutMs;
    const secure = this.#endpoint.protocol === 'https:';
    this.#agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 4 }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
    this.#request = secure ? https.request : http.request;
  }

  write(lines: readonly string[]): Promise<void> {
    const body = Buffer.from(lines.join('\n'));
    return new Promise((resolve, reject) => {
      const request = this.#request(
        this.#endpoint,
        {
          method: 'POST',
          agent: this.#agent,
          headers: { ...this.#headers, 'content-length': body.byteLength },
          timeout: this.#timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => reject(unreachable(error)));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            // 1.x answers 204 on success; a "partial write" is a 400 with some points stored.
            if (status === 204 || status === 200) return resolve();
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 500);
            reject(new HistoryStoreError(`InfluxDB /write answered ${status}: ${text}`, { retryable: retryableStatus(status) }));
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      request.on('error', (error) => reject(unreachable(error)));
      request.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function unreachable(error: Error): HistoryStoreError {
  return new HistoryStoreError(`InfluxDB /write unreachable: ${error.message}`, { cause: error });
}

/** `/api/v2/write` through the official client, its batching and retries switched off. */
export class V2ClientWriter implements LineWriter {
  readonly kind = 'v2' as const;
  readonly #client: InfluxDB;
  readonly #org: string;
  readonly #bucket: string;

  constructor(connection: InfluxConnection) {
    const token =
      connection.token ?? (connection.username !== undefined ? `${connection.username}:${connection.password ?? ''}` : undefined);
    this.#client = new InfluxDB({ url: connection.url, timeout: connection.timeoutMs, ...(token ? { token } : {}) });
    this.#org = connection.org ?? '';
    this.#bucket =
      connection.bucket ?? (connection.retentionPolicy ? `${connection.database}/${connection.retentionPolicy}` : connection.database);
  }

  async write(lines: readonly string[]): Promise<void> {
    const api = this.#writeApiFor(lines.length);
    api.writeRecords(lines as string[]);
    try {
      // close() sends the buffer as one request and settles with its outcome.
      await api.close();
    } catch (error) {
      const status = error instanceof HttpError ? error.statusCode : undefined;
      const detail = error instanceof HttpError ? `${status}: ${(error.body ?? error.message).slice(0, 500)}` : (error as Error).message;
      throw new HistoryStoreError(`InfluxDB /api/v2/write failed: ${detail}`, {
        cause: error,
        retryable: status === undefined || retryableStatus(status),
      });
    }
  }

  close(): void {
    // Each call's WriteApi is closed after its request; nothing is kept open here.
  }

  /**
   * A WriteApi per call keeps concurrent calls from sharing a buffer. The
   * batch limits sit above the call's size so the client never sends part of
   * it on its own (an automatic flush swallows its error), the flush timer is
   * off and retries are off (maxRetries 0): failures surface here.
   */
  #writeApiFor(lineCount: number): WriteApi {
    return this.#client.getWriteApi(this.#org, this.#bucket, 'ms', {
      batchSize: lineCount + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: lineCount + 1,
    });
  }
}
