/**
 * The README's start command: prints the dashboard URL with its credentials,
 * serves three live patients, and stops everything cleanly on Ctrl-C.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../scripts/system.ts';
import { openLive } from '../e2e/live.ts';

/** Gateway processes whose data lives under `dataDir` (Linux /proc). */
function gatewayProcesses(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('gateway.mjs') && readFileSync(`/proc/${entry}/environ`, 'utf8').includes(dataDir)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

test('start command: three live patients, then a clean stop on SIGINT', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-start-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/start.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, VIGIL_HTTP_PORT: '0', VIGIL_MQTT_PORT: '0', VIGIL_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 120_000;
    while (!/Press Ctrl-C to stop/.test(stdout)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`start command did not come up:\n${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const url = new URL(/Dashboard:\s+(\S+)/.exec(stdout)?.[1] ?? '');
    const token = url.searchParams.get('token') ?? '';
    assert.match(stdout, /Viewer token:\s+\S+/);
    assert.match(stdout, /Admin token:\s+\S+/);

    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Vigil/);

    const live = await openLive(url.origin, token);
    try {
      const snapshot = await live.waitFor((m) => m.type === 'snapshot', 10_000);
      assert.ok(snapshot.type === 'snapshot');
      assert.equal(snapshot.patients.length, 3);
      for (const entry of snapshot.patients) {
        await live.waitFor((m) => m.type === 'vitals' && m.patient.patientId === entry.patient.patientId && m.reading.hr !== null, 60_000);
      }
    } finally {
      live.close();
    }

    assert.equal(gatewayProcesses(dataDir).length, 3, 'one process per gateway');

    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.match(stdout, /stopped\./);
    assert.deepEqual(gatewayProcesses(dataDir), [], 'no gateway process left behind');
    // Nothing of the system is left listening.
    await assert.rejects(fetch(url));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
});
