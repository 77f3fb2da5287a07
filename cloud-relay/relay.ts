/**
 * Starts a whole relay: registry, spool, history store, broker (TCP, and TLS
 * and WebSocket when configured), live hub and HTTP. Data flows one way:
 * broker → ingest (validate, spool) → live hub now, history store via the
 * spool drainer.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { DEFAULT_RELAY_AUDIENCE } from '../protocol/device-token.ts';
import type { AlarmEvent } from '../protocol/schemas.ts';
import { type BrokerLimits, RelayBroker } from './broker/broker.ts';
import { DeviceAuthenticator } from './broker/device-auth.ts';
import { type Clock, systemClock } from './clock.ts';
import { buildHttp } from './http.ts';
import { type SpoolDrain, SpoolDrainer, toStorePoints } from './ingest/drainer.ts';
import { DurableSpool } from './ingest/durable-spool.ts';
import { Ingest } from './ingest/ingest.ts';
import { LiveHub } from './live/hub.ts';
import { RelayMetrics } from './metrics.ts';
import { DeviceRegistry } from './registry/registry.ts';
import { createHistoryStore, type HistoryStore, type HistoryStoreConfig, type StoredAlarmEvent } from './store/index.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}
export interface TlsPem {
  cert: string | Buffer;
  key: string | Buffer;
}
export type TlsConfig = (TlsFiles | TlsPem) & {
  /** Also serve HTTP (enrollment, admin, dashboards, /live) over HTTPS with this certificate. */
  http?: boolean;
};

export interface DrainSettings {
  /** Spool rows per history store batch. */
  batchSize: number;
  /** Most spool rows per batch while catching up on a deep spool (default 10 × batchSize). */
  maxBatchRows?: number;
  /** Store writes in flight at once while the store is healthy (default 2). */
  concurrency?: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How long shutdown keeps draining the spool into the store before it gives up (the rest stays on disk). */
  shutdownDeadlineMs: number;
}

export interface RelayConfig {
  /** Interface to listen on; 127.0.0.1 unless a deployment says otherwise. */
  host?: string;
  /** MQTT over TCP; 0 picks a free port. Default 1883. */
  mqttPort?: number;
  /** MQTT over TLS (needs `tls`); off when absent. */
  mqttTlsPort?: number;
  /** MQTT over WebSocket at /mqtt; off when absent. */
  mqttWsPort?: number;
  /** HTTP: operations, enrollment, admin, dashboards. Default 8080. */
  httpPort?: number;
  /** Registry, spool and (embedded store) history live here. */
  dataDir: string;
  /** Bearer token for the admin API; generated and kept in `<dataDir>/admin-token` when absent. */
  adminToken?: string;
  /** `aud` the gateways' tokens must carry. */
  audience?: string;
  /**
   * The history store, or the configuration for createHistoryStore
   * (cloud-relay/store/index.ts). Absent: the embedded SQLite store in
   * `<dataDir>/history.sqlite`, so the relay runs with zero setup.
   */
  store?: HistoryStore | HistoryStoreConfig;
  tls?: TlsConfig;
  /** A pino logger, or the level for the relay's own (default info). */
  log?: Logger;
  logLevel?: string;
  clock?: Clock;
  limits?: Partial<BrokerLimits>;
  drain?: Partial<DrainSettings>;
  /** Commit the spool on a worker thread, off the broker's event loop (default true). */
  spoolThread?: boolean;
  /** After the history store accepted readings: their measurement times and when they were stored (latency figures). */
  onStored?: (times: Float64Array, storedAt: number) => void;
  /** Spool depth above which /readyz reports not ready. */
  maxSpoolRows?: number;
  /** How long a (gateway, msgId) is remembered for dedupe (about 110 bytes of spool file per message). */
  dedupeWindowDays?: number;
  /** Static dashboard served at `/`; defaults to dashboards/clinician; false to serve none. */
  dashboardDir?: string | false;
}

export interface Relay {
  httpUrl: string;
  mqttUrl: string;
  mqttTlsUrl?: string;
  mqttWsUrl?: string;
  adminToken: string;
  /** The running parts, for embedding and tests. */
  parts: RelayParts;
  /** Graceful: stops accepting, disconnects gateways, drains the spool into the store, closes. */
  close(): Promise<void>;
}

export interface RelayParts {
  registry: DeviceRegistry;
  broker: RelayBroker;
  spool: DurableSpool;
  ingest: Ingest;
  /** The drain loop: on the spool's writer thread when the relay built the store from configuration, else here. */
  drainer: SpoolDrain;
  hub: LiveHub;
  metrics: RelayMetrics;
  store: HistoryStore;
  log: Logger;
}

export const DEFAULT_DRAIN: DrainSettings = {
  batchSize: 200,
  concurrency: 2,
  minBackoffMs: 250,
  maxBackoffMs: 30_000,
  shutdownDeadlineMs: 10_000,
};
export const DEFAULT_MAX_SPOOL_ROWS = 1_000_000;
/**
 * A resend comes from a lost PUBACK and follows within the gateway's reconnect; three days also covers a gateway
 * that lost its link right after sending and stayed offline over a weekend. Older duplicates still reach the history
 * store harmlessly: it keeps one point per (gateway, t).
 */
export const DEFAULT_DEDUPE_WINDOW_DAYS = 3;
const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../dashboards/clinician', import.meta.url));

/** The relay's JSON logger (stdout unless `destination` is given). */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'vigil-relay' },
    // Belt and braces: secrets and patient names never reach the log even if passed by mistake.
    redact: {
      paths: ['password', 'token', 'adminToken', 'viewerToken', 'enrollmentToken', '*.displayName', 'displayName'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

function adminTokenFor(config: RelayConfig, log: Logger): string {
  if (config.adminToken) return config.adminToken;
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  log.warn({ file }, 'no admin token configured: generated one');
  return token;
}

export async function startRelay(config: RelayConfig): Promise<Relay> {
  const host = config.host ?? '127.0.0.1';
  const clock = config.clock ?? systemClock;
  const log = config.log ?? createLogger(config.logLevel);
  const audience = config.audience ?? DEFAULT_RELAY_AUDIENCE;
  const drain = { ...DEFAULT_DRAIN, ...config.drain };
  const maxSpoolRows = config.maxSpoolRows ?? DEFAULT_MAX_SPOOL_ROWS;
  mkdirSync(config.dataDir, { recursive: true });
  const adminToken = adminTokenFor(config, log);

  const registry = new DeviceRegistry(join(config.dataDir, 'registry.db'), clock);
  const ownStore = !isHistoryStore(config.store);
  const storeConfig: HistoryStoreConfig | null = isHistoryStore(config.store)
    ? null
    : { ...config.store, sqlite: { path: join(config.dataDir, 'history.sqlite'), ...config.store?.sqlite } };
  // Reads (history API, alarms at start) use this one; writes too, unless the spool's thread drains.
  const store = isHistoryStore(config.store) ? config.store : await createHistoryStore(storeConfig ?? {});
  const spoolThread = config.spoolThread ?? true;
  const threadStore = spoolThread && storeConfig ? storeForThread(storeConfig) : null;
  const metrics = new RelayMetrics({ spoolDepth: () => (spool.open ? spool.depth() : 0), defaultMetrics: true });
  const drainLog = log.child({ component: 'drainer' });
  const stored = (times: Float64Array, storedAt = clock.now()) => {
    for (const t of times) metrics.storeDelaySeconds.observe(Math.max(0, storedAt - t) / 1000);
    config.onStored?.(times, storedAt);
  };
  const spool = await DurableSpool.open(join(config.dataDir, 'spool.db'), {
    thread: spoolThread,
    ...(threadStore ? { drain: { store: threadStore, ...drain } } : {}),
    onDrainEvent: (event) => {
      switch (event.event) {
        case 'write':
          metrics.storeWriteSeconds.observe({ op: event.op }, event.seconds);
          break;
        case 'failure':
          metrics.storeWriteFailures.inc();
          break;
        case 'log':
          drainLog[event.level](event.obj, event.msg);
          break;
        case 'stored':
          stored(event.times, event.storedAt);
          break;
      }
    },
  });
  const hub = new LiveHub(registry, metrics, log.child({ component: 'live' }));
  const drainer =
    spool.threadDrain ??
    new SpoolDrainer({
      spool,
      store,
      clock,
      metrics,
      log: drainLog,
      ...drain,
      onStored: (readings) => stored(Float64Array.from(readings, (r) => r.t)),
    });
  const ingest = new Ingest({
    spool,
    registry,
    metrics,
    clock,
    live: hub,
    log: log.child({ component: 'ingest' }),
    onSpooled: () => drainer.kick(),
  });
  const broker = await RelayBroker.create({
    registry,
    authenticator: new DeviceAuthenticator(registry, audience, clock),
    ingest,
    presence: hub,
    metrics,
    log: log.child({ component: 'broker' }),
    clock,
    limits: config.limits,
  });

  const pem = config.tls
    ? 'certFile' in config.tls
      ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }
      : { cert: config.tls.cert, key: config.tls.key }
    : null;
  let ready = false;
  const dashboardDir =
    config.dashboardDir === false ? null : (config.dashboardDir ?? (existsSync(DEFAULT_DASHBOARD_DIR) ? DEFAULT_DASHBOARD_DIR : null));
  const app = buildHttp({
    registry,
    broker,
    ingest,
    spool,
    store,
    metrics,
    log,
    adminToken,
    audience,
    dashboardDir,
    isReady: () => ready,
    maxSpoolRows,
    storeFailuresInARow: () => drainer.failuresInARow,
    now: () => clock.now(),
    https: pem && config.tls?.http ? pem : null,
  });
  hub.attach(app.server);

  const dedupeWindowMs = (config.dedupeWindowDays ?? DEFAULT_DEDUPE_WINDOW_DAYS) * 24 * 3600 * 1000;
  const pruneTimer = { cancel: () => {} };
  const prune = () => {
    spool.pruneSeen(clock.now() - dedupeWindowMs).then(
      (forgotten) => {
        if (forgotten > 0) log.info({ forgotten }, 'dedupe window: old message ids forgotten');
      },
      (error: unknown) => log.warn({ err: error }, 'dedupe window: pruning failed; retried in an hour'),
    );
    pruneTimer.cancel = clock.setTimer(3600_000, prune);
  };

  // Alarms active before a restart: from the spool (not yet stored) now, from the history store in the background.
  restoreActiveAlarms(hub, spool, store, registry, clock.now(), log).catch((error: unknown) =>
    log.warn({ err: error }, 'could not restore active alarms from history; they reappear with their next event'),
  );

  try {
    drainer.start();
    prune();
    const mqtt = await broker.listenTcp(host, config.mqttPort ?? 1883);
    let mqttTlsUrl: string | undefined;
    let mqttWsUrl: string | undefined;
    if (config.mqttTlsPort !== undefined) {
      if (!pem) throw new Error('mqttTlsPort is set but tls (certFile/keyFile) is not');
      const address = await broker.listenTls(host, config.mqttTlsPort, pem);
      mqttTlsUrl = `mqtts://${hostFor(host)}:${address.port}`;
    }
    if (config.mqttWsPort !== undefined) {
      const address = await broker.listenWs(host, config.mqttWsPort);
      mqttWsUrl = `ws://${hostFor(host)}:${address.port}/mqtt`;
    }
    await app.listen({ host, port: config.httpPort ?? 8080 });
    const httpAddress = app.server.address() as { port: number };
    ready = true;
    const relay: Relay = {
      httpUrl: `${pem && config.tls?.http ? 'https' : 'http'}://${hostFor(host)}:${httpAddress.port}`,
      mqttUrl: `mqtt://${hostFor(host)}:${mqtt.port}`,
      adminToken,
      parts: { registry, broker, spool, ingest, drainer, hub, metrics, store, log },
      close: once(async () => {
        ready = false;
        pruneTimer.cancel();
        await broker.close();
        hub.close();
        const { left } = await drainer.stop(drain.shutdownDeadlineMs);
        if (left > 0) log.warn({ left }, 'spool not fully drained at shutdown; it stays on disk for the next start');
        else log.info('spool drained');
        await app.close();
        if (ownStore) await store.close();
        await spool.close();
        registry.close();
      }),
      ...(mqttTlsUrl ? { mqttTlsUrl } : {}),
      ...(mqttWsUrl ? { mqttWsUrl } : {}),
    };
    log.info(
      { http: relay.httpUrl, mqtt: relay.mqttUrl, mqttTls: mqttTlsUrl, mqttWs: mqttWsUrl, spoolDepth: spool.depth() },
      'relay started',
    );
    return relay;
  } catch (error) {
    pruneTimer.cancel();
    await broker.close().catch(() => {});
    await drainer.stop().catch(() => {});
    await app.close().catch(() => {});
    if (ownStore) await store.close().catch(() => {});
    await spool.close();
    registry.close();
    throw error;
  }
}

/** How far back the history store is asked for alarms that may still be active at start. */
export const ALARM_RESTORE_WINDOW_MS = 24 * 3600_000;

async function restoreActiveAlarms(
  hub: LiveHub,
  spool: DurableSpool,
  store: HistoryStore,
  registry: DeviceRegistry,
  now: number,
  log: Logger,
): Promise<void> {
  const pending = toStorePoints(spool.peek(10_000, 'alarms')).events;
  const patients = new Set(registry.listGateways().map((g) => g.patient.patientId));
  // Live messages carry the contract's AlarmEvent, without the store's own fields.
  const bare = ({ gatewayId: _g, patientId: _p, ...event }: StoredAlarmEvent): AlarmEvent => event;
  for (const event of pending) hub.restoreAlarms(event.patientId, [bare(event)]);
  let restored = pending.length;
  for (const patientId of patients) {
    const events = await store.queryAlarmEvents({ patientId, fromMs: now - ALARM_RESTORE_WINDOW_MS, toMs: now + 3600_000 });
    hub.restoreAlarms(patientId, events.map(bare));
    restored += events.length;
  }
  if (restored > 0) log.info({ events: restored }, 'alarm events restored for live sessions');
}

/**
 * The store configuration the spool's thread can build its own writer from,
 * or null when it cannot: an in-memory SQLite store would be a different store
 * in each thread, and an injected InfluxQL reader cannot cross threads.
 */
function storeForThread(config: HistoryStoreConfig): HistoryStoreConfig | null {
  if (config.influxdb) return config.influxdb.reader ? null : config;
  return config.sqlite?.path === ':memory:' ? null : config;
}

function isHistoryStore(value: RelayConfig['store']): value is HistoryStore {
  return typeof (value as HistoryStore | undefined)?.writeReadings === 'function';
}

function hostFor(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => {
    running ??= fn();
    return running;
  };
}
