import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadLimitsFile, splitLimitsArg } from '../../../gateway/alarms/limits-file.ts';
import { InputError } from '../../../gateway/cli/args.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-limits-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('--limits argument', () => {
  it('takes --limits out and leaves the shared arguments in order', () => {
    assert.deepEqual(splitLimitsArg(['--rate', '25', '--limits', 'a.json', 'x.csv'], 'u'), {
      limitsFile: 'a.json',
      rest: ['--rate', '25', 'x.csv'],
    });
    assert.deepEqual(splitLimitsArg(['--limits=b.json', 'x.csv'], 'u'), { limitsFile: 'b.json', rest: ['x.csv'] });
    assert.deepEqual(splitLimitsArg(['x.csv'], 'u'), { rest: ['x.csv'] });
    assert.deepEqual(splitLimitsArg(['--', '--limits'], 'u'), { rest: ['--', '--limits'] });
  });

  it('refuses a missing value or a second --limits', () => {
    assert.throws(
      () => splitLimitsArg(['--limits'], 'u'),
      (e: Error) => e instanceof InputError && /--limits needs a value/.test(e.message),
    );
    assert.throws(() => splitLimitsArg(['--limits='], 'u'), /needs a value/);
    assert.throws(() => splitLimitsArg(['--limits', 'a', '--limits', 'b'], 'u'), /given twice/);
  });

  it('loads a valid document and names the problem in an invalid one', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, '{"hr-high": {"limit": 130}}');
    assert.deepEqual(loadLimitsFile(good), { 'hr-high': { limit: 130 } });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"hr-high": {"limit": 130, "colour": "red"}}');
    assert.throws(() => loadLimitsFile(bad), /bad\.json: invalid limits: \/hr-high: unknown property "colour"/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"hr-high": ');
    assert.throws(
      () => loadLimitsFile(broken),
      (e: Error) => e instanceof InputError && /broken\.json: not JSON/.test(e.message),
    );
    assert.throws(() => loadLimitsFile(join(dir, 'absent.json')), /absent\.json: cannot read \(ENOENT\)/);
  });
});
