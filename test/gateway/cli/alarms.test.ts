import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { synthPpg, toCsv } from '../../fixtures/alarms/ppg.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../../gateway/cli/alarms.ts');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command as `npm run alarms` does (tsx gateway/cli/alarms.ts). */
async function alarms(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const ramp = (t: number, t0: number, t1: number, a: number, b: number) =>
  t <= t0 ? a : t >= t1 ? b : a + ((b - a) * (t - t0)) / (t1 - t0);

let dir: string;
const file = (name: string) => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-alarms-cli-'));
  const base = { rateHz: 50, hr: () => 72, spo2: () => 97 };
  writeFileSync(file('stable.csv'), toCsv(synthPpg({ ...base, durationS: 90 })));
  writeFileSync(file('desat.csv'), toCsv(synthPpg({ ...base, durationS: 130, spo2: (t) => ramp(t, 60, 80, 97, 80) })));
  writeFileSync(file('finger-off.csv'), toCsv(synthPpg({ ...base, durationS: 110, finger: (t) => t < 40 || t > 80 })));
  writeFileSync(
    file('relaxed.json'),
    JSON.stringify({ 'spo2-low': { limit: 75 }, 'spo2-low-severe': { limit: 70 }, 'spo2-desat': { enabled: false } }),
  );
  writeFileSync(file('bad-limits.json'), JSON.stringify({ 'spo2-low': { limit: 'ninety' } }));
  writeFileSync(file('garbage.csv'), 'time_ms,red,ir\n0,12,abc\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

function lines(stdout: string): Record<string, unknown>[] {
  assert.ok(stdout.endsWith('\n'));
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('alarms CLI', () => {
  it('prints one JSON line per alarm event, then the summary', async () => {
    const { code, stdout, stderr } = await alarms(file('desat.csv'));
    assert.equal(code, 0, stderr);
    const out = lines(stdout);
    const summary = out.pop() as { summary: { raised: number } };
    assert.ok(out.length > 0);
    for (const line of out) {
      assert.deepEqual(Object.keys(line), ['t', 'event', 'id', 'kind', 'priority']);
      assert.ok(typeof line.t === 'number' && line.t >= 0 && line.t <= 130);
      assert.ok(['raised', 'escalated', 'cleared'].includes(line.event as string));
      assert.ok(['physiological', 'technical'].includes(line.kind as string));
      assert.ok(['high', 'medium', 'low'].includes(line.priority as string));
    }
    assert.deepEqual(Object.keys(summary), ['summary']);
    assert.equal(summary.summary.raised, out.filter((l) => l.event === 'raised').length);
    const raised = out.filter((l) => l.event === 'raised').map((l) => l.id);
    assert.ok(raised.includes('spo2-desat'), `raised: ${raised}`);
    assert.ok(raised.includes('spo2-low-severe'));
    const severe = out.find((l) => l.id === 'spo2-low-severe')!;
    assert.equal(severe.kind, 'physiological');
    assert.equal(severe.priority, 'high');
    // True SpO2 goes below 85 % at 74.1 s; 5 s condition delay + 1 s.
    assert.ok((severe.t as number) <= 74.1 + 6, `severe raised at ${severe.t} s`);
  });

  it('prints only the summary for a stable patient', async () => {
    const { code, stdout } = await alarms('--rate', '50', file('stable.csv'));
    assert.equal(code, 0);
    assert.equal(stdout, '{"summary":{"raised":0}}\n');
  });

  it('reports finger-off as a technical alarm, raised then cleared', async () => {
    const { code, stdout } = await alarms(file('finger-off.csv'));
    assert.equal(code, 0);
    const out = lines(stdout);
    assert.deepEqual(
      out.map((l) => [l.event ?? 'summary', l.id ?? l.summary]),
      [
        ['raised', 'sensor-off'],
        ['cleared', 'sensor-off'],
        ['summary', { raised: 1 }],
      ],
    );
    assert.equal(out[0]!.kind, 'technical');
  });

  it('applies a --limits document: the same desaturation raises nothing physiological', async () => {
    const { code, stdout, stderr } = await alarms('--limits', file('relaxed.json'), file('desat.csv'));
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      lines(stdout).filter((l) => l.kind === 'physiological'),
      [],
    );
    const eq = await alarms(`--limits=${file('relaxed.json')}`, '--calibration', 'max30102', file('desat.csv'));
    assert.equal(eq.stdout, stdout);
  });

  it('exits 2 with a one-line reason for unreadable input', async () => {
    const cases: [string[], RegExp][] = [
      [[file('missing.csv')], /missing\.csv.*cannot read/],
      [[file('garbage.csv')], /garbage\.csv/],
      [['--limits', file('bad-limits.json'), file('stable.csv')], /bad-limits\.json: invalid limits: \/spo2-low\/limit/],
      [['--rate', 'fast', file('stable.csv')], /--rate "fast"/],
    ];
    const results = await Promise.all(cases.map(([args]) => alarms(...args)));
    results.forEach((r, i) => {
      const [args, reason] = cases[i]!;
      assert.equal(r.code, 2, `exit code for ${args.join(' ')}`);
      assert.equal(r.stdout, '', `no stdout for ${args.join(' ')}`);
      assert.match(r.stderr, reason);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    });
  });
});
