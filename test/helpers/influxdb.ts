/**
 * Starts Debian's `influxd` (1.6.7) for a test or a benchmark: its own temp
 * folder for meta/data/wal, HTTP and RPC on free 127.0.0.1 ports (RPC
 * defaults to :8088 and would collide between parallel runs), reporting,
 * monitor and continuous queries off. Also exports the small daemon helpers
 * victoria-metrics.ts reuses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** A port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const running = new Set<ChildProcess>();
const killAll = () => {
  for (const child of running) child.kill('SIGKILL');
};
process.once('exit', killAll);
// A test runner that times out sends SIGTERM, which skips 'exit': take the servers down, then die of the same signal.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

export interface Daemon {
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns a server with its output in `logFile`, polls `readyUrl` until it answers 2xx. */
export async function startDaemon(command: string, args: string[], logFile: string, readyUrl: string, timeoutMs = 30_000): Promise<Daemon> {
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log] });
  running.add(child);
  let exited: string | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      exited = `failed to start: ${error.message}`;
      running.delete(child);
      resolve();
    });
  });
  const daemon: Daemon = {
    child,
    async stop(graceMs = 10_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${command} ${exited} before it was ready; log:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    try {
      const response = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return daemon;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await daemon.stop(1000);
      throw new Error(`${command} not ready at ${readyUrl} within ${timeoutMs} ms; log:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    }
    await delay(100);
  }
}

export interface InfluxDbServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly dir: string;
  /** influxd's process id while it runs (for CPU/RSS figures in benchmarks). */
  pid(): number | undefined;
  /** Runs an InfluxQL statement (CREATE DATABASE, SELECT ...) and returns the parsed JSON. */
  query(q: string, db?: string): Promise<InfluxQlResponse>;
  /** Stops the server, keeping its data: `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its folder. */
  close(): Promise<void>;
}

export interface InfluxQlResponse {
  results: Array<{
    statement_id?: number;
    error?: string;
    series?: Array<{ name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }>;
  }>;
  error?: string;
}

export interface InfluxDbOptions {
  /** Databases created once the server is up. */
  databases?: string[];
  /** Log level of influxd itself (its log goes to <dir>/influxd.log). */
  logLevel?: 'error' | 'warn' | 'info';
  /** Parent of the server's temp folder; the system temp folder by default. */
  parentDir?: string;
}

/**
 * Runs `start` up to `attempts` times: a port picked by freePort can be taken
 * by another test process before the server binds it.
 */
export async function withPortRetries<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

export function startInfluxDb(options: InfluxDbOptions = {}): Promise<InfluxDbServer> {
  return withPortRetries(() => startInfluxDbOnce(options));
}

async function startInfluxDbOnce(options: InfluxDbOptions): Promise<InfluxDbServer> {
  const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'vigil-influxdb-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  for (const sub of ['meta', 'data', 'wal']) mkdirSync(join(dir, sub));
  const configPath = join(dir, 'influxdb.conf');
  writeFileSync(
    configPath,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "${options.logLevel ?? 'warn'}"
  suppress-logo = true

[continuous_queries]
  enabled = false
`,
  );

  let daemon: Daemon | null = null;
  const start = async () => {
    if (daemon) return;
    daemon = await startDaemon('influxd', ['run', '-config', configPath], join(dir, 'influxd.log'), `${url}/ping`);
  };
  const stop = async () => {
    const current = daemon;
    daemon = null;
    await current?.stop();
  };
  const query = async (q: string, db?: string): Promise<InfluxQlResponse> => {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (db) params.set('db', db);
    const response = await fetch(`${url}/query`, { method: 'POST', body: params });
    const body = (await response.json()) as InfluxQlResponse;
    const error = body.error ?? body.results.find((r) => r.error)?.error;
    if (!response.ok || error) throw new Error(`InfluxQL "${q}" failed: ${response.status} ${error ?? ''}`);
    return body;
  };

  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  for (const db of options.databases ?? []) await query(`CREATE DATABASE "${db}"`);
  return {
    url,
    dir,
    pid: () => daemon?.child.pid,
    query,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
