import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { synthPpg } from '../signal/synth.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const fixture = join(root, 'test', 'fixtures', 'signal', 'welltory-s04-30s.csv');
const dir = mkdtempSync(join(tmpdir(), 'vigil-analyze-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function analyze(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'gateway', 'cli', 'analyze.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('analyze CLI', () => {
  it('prints one JSON line per second then the summary, HR from a red-only camera recording (CC0 fixture)', () => {
    const { code, stdout, stderr } = analyze(fixture);
    assert.equal(code, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const summary = lines.pop();
    assert.ok(lines.length >= 28 && lines.length <= 30);
    for (const l of lines) {
      assert.deepEqual(Object.keys(l), ['t', 'hr', 'spo2', 'pi', 'sqi']);
      assert.equal(l.spo2, null, 'one channel: no SpO2');
      assert.ok(l.sqi >= 0 && l.sqi <= 1);
    }
    // Chest-strap reference: mean rate of the beats in the same 8 s window as each estimate.
    const rr = readFileSync(join(root, 'test', 'fixtures', 'signal', 'welltory-s04-RR.txt'), 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const beats: number[] = [];
    let sum = 0;
    for (const x of rr) {
      sum += x;
      beats.push(sum / 1000);
    }
    const refAt = (t: number) => {
      const w = beats.filter((b) => b > t - 8 && b <= t);
      return (60 * (w.length - 1)) / (w.at(-1)! - w[0]!);
    };
    const rated = lines.filter((l) => l.hr !== null);
    assert.ok(rated.length >= 15, 'most of the settled seconds carry a rate');
    const mae = rated.reduce((s, l) => s + Math.abs(l.hr - refAt(l.t)), 0) / rated.length;
    assert.ok(mae < 2.5, `HR MAE ${mae.toFixed(2)} bpm against the chest strap`);
    assert.deepEqual(Object.keys(summary.summary), ['hr', 'spo2', 'sqi']);
    assert.ok(Math.abs(summary.summary.hr - 73) < 3, `summary ${summary.summary.hr}`);
    assert.equal(summary.summary.spo2, null);
  });

  it('takes --rate for a file without time_ms, columns in any order, extra columns ignored', () => {
    const rec = synthPpg({ rateHz: 50, bpm: 96, spo2: 92, seconds: 25, noise: 0.02, seed: 9 });
    const rows = ['note,ir,red'];
    for (let i = 0; i < rec.ir.length; i++) rows.push(`x,${rec.ir[i]!.toFixed(1)},${rec.red[i]!.toFixed(1)}`);
    const file = join(dir, 'norate.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const { code, stdout, stderr } = analyze('--rate', '50', file);
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!).summary;
    assert.ok(Math.abs(summary.hr - 96) <= 1, `hr ${summary.hr}`);
    assert.ok(Math.abs(summary.spo2 - 92) <= 1.5, `spo2 ${summary.spo2}`);
    const other = analyze('--calibration', 'maxm86161', '--rate=50', file);
    assert.equal(other.code, 0, other.stderr);
    assert.notEqual(JSON.parse(other.stdout.trim().split('\n').at(-1)!).summary.spo2, summary.spo2, 'calibration changes SpO2');
  });

  const bad: [string, string, string[]][] = [
    ['a missing file', 'ENOENT', [join(dir, 'nope.csv')]],
    ['a header without red or ir', 'no red or ir column', ['bad-header.csv']],
    ['a non-numeric cell', 'line 3', ['bad-cell.csv']],
    ['no time_ms and no --rate', 'rate', ['no-time.csv']],
    ['an unknown calibration', 'unknown calibration', ['--calibration', 'foo', 'no-time.csv']],
    ['no file at all', 'no FILE', []],
  ];
  writeFileSync(join(dir, 'bad-header.csv'), 'a,b\n1,2\n');
  writeFileSync(join(dir, 'bad-cell.csv'), 'time_ms,red\n0,1\n10,abc\n');
  writeFileSync(join(dir, 'no-time.csv'), 'red,ir\n1,2\n3,4\n');
  for (const [what, expected, args] of bad) {
    it(`exits 2 with a one-line reason on ${what}`, () => {
      const { code, stdout, stderr } = analyze(...args.map((a) => (a.endsWith('.csv') && !a.includes('/') ? join(dir, a) : a)));
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, new RegExp(expected));
    });
  }
});
