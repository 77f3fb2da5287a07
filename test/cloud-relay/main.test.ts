/** The relay as an operator runs it: `npm run relay`, configured by environment, stopped by SIGTERM. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'vigil-relay-main-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function runRelay(env: Record<string, string>): { child: ChildProcess; lines: Array<Record<string, unknown>>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cloud-relay/main.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ text: line });
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  return { child, lines, stderr: () => stderr };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

async function waitForLine(lines: Array<Record<string, unknown>>, msg: string, child: ChildProcess): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = lines.find((l) => l.msg === msg);
    if (line) return line;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${msg}" log line; got ${JSON.stringify(lines)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('starts with zero setup on loopback, serves health, and shuts down gracefully on SIGTERM', async () => {
  const dataDir = join(dir, 'run');
  const { child, lines } = runRelay({ VIGIL_DATA_DIR: dataDir, VIGIL_HTTP_PORT: '0', VIGIL_MQTT_PORT: '0', VIGIL_LOG_LEVEL: 'info' });
  try {
    const started = await waitForLine(lines, 'relay started', child);
    const httpUrl = started.http as string;
    assert.match(httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(started.mqtt as string, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${httpUrl}/readyz`)).status, 200);
    const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const list = await fetch(`${httpUrl}/api/v1/admin/gateways`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(list.status, 200, 'the generated admin token is the one in dataDir');
    const dashboard = await fetch(`${httpUrl}/`);
    assert.equal(dashboard.status, 200);
    assert.match(dashboard.headers.get('content-type') ?? '', /text\/html/);
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
    assert.ok(lines.some((l) => l.msg === 'spool drained'));
    assert.equal(JSON.stringify(lines).includes(adminToken), false, 'the admin token never reaches the log');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a bad setting stops it with exit code 2 and names the setting', async () => {
  const { child, stderr } = runRelay({ VIGIL_DATA_DIR: join(dir, 'bad'), VIGIL_HTTP_PORT: 'eighty' });
  assert.equal(await exited(child), 2);
  assert.match(stderr(), /VIGIL_HTTP_PORT/);
});
