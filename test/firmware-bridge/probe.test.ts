import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const probe = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'firmware-bridge/probe.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

test('the probe reports a second of emulated sensor data', () => {
  const r = probe('--mode', 'emulator', '--seconds', '1', '--scenario', 'firmware-bridge/scenarios/stable.json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /sensor: emulator, 100 samples\/s/);
  assert.match(r.stdout, /state ok/);
  assert.match(r.stdout, /\s1 s\s+\d+ samples\s+red DC \d+ \(\d+ % FS\), p-p \d+\s+IR DC/);
});

test('the probe refuses bad arguments and explains a missing scenario', () => {
  assert.equal(probe('--mode', 'bogus').status, 2);
  const r = probe('--mode', 'emulator', '--seconds', '1', '--scenario', '/nonexistent.json');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /probe: \/nonexistent\.json: cannot read \(ENOENT\)/);
});
