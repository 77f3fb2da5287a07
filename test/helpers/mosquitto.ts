/**
 * Runs Debian's mosquitto (2.x) for a test or benchmark: a fresh config on a
 * free 127.0.0.1 port, persistence off, anonymous clients allowed (the
 * broker stands in for the network, not for the relay's authentication).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';

export function mosquittoAvailable(): boolean {
  return existsSync(MOSQUITTO_BIN);
}

export interface Mosquitto {
  url: string;
  port: number;
  /** Kills the broker (SIGKILL when `hard`) and waits for it to exit. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * `persistent`: keep sessions and queued QoS 1 messages across a restart
 * (mosquitto writes its database on a clean shutdown).
 */
export async function startMosquitto(opts: { port?: number; persistent?: boolean; extraConfig?: string[] } = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      ...(opts.persistent ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 0'] : ['persistence false']),
      'log_dest none',
      // Let a backlog through without mosquitto's default in-flight cap of 20 slowing the test.
      'max_inflight_messages 0',
      'max_queued_messages 0',
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    await waitForPort(port, child, 10_000);
  };
  await launch();
  const stop = async (hard = false) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: async (hard?: boolean) => {
      await stop(hard);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop(false);
      await launch();
    },
  };
}
