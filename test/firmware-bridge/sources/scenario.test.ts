import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  loadScenarioFile,
  parseScenario,
  ScenarioError,
  ScenarioSchema,
  ScenarioTimeline,
} from '../../../firmware-bridge/sources/scenario.ts';

const dir = fileURLToPath(new URL('../../../firmware-bridge/scenarios/', import.meta.url));

describe('scenario files', () => {
  test('every shipped scenario validates', () => {
    const names = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'scenario.schema.json');
    for (const want of ['stable', 'desaturation', 'bradycardia', 'tachycardia', 'finger-off', 'motion'])
      assert.ok(names.includes(`${want}.json`), want);
    for (const f of names) assert.equal(loadScenarioFile(`${dir}${f}`).name, f.replace('.json', ''));
  });

  test('scenario.schema.json is the schema the loader enforces', () => {
    const file = JSON.parse(readFileSync(`${dir}scenario.schema.json`, 'utf8'));
    const { $id, title, ...schema } = file;
    assert.equal($id, 'vigil-scenario');
    assert.ok(title);
    assert.deepEqual(schema, JSON.parse(JSON.stringify(ScenarioSchema)));
  });

  test('the shipped episodes say what their names promise', () => {
    const desat = new ScenarioTimeline(loadScenarioFile(`${dir}desaturation.json`));
    assert.equal(desat.paramsAt(10).spo2, 97);
    assert.equal(desat.paramsAt(120).spo2, 85);
    assert.equal(desat.paramsAt(250).spo2, 97);
    assert.equal(desat.paramsAt(300 + 120).spo2, 85, 'loops');
    const brady = new ScenarioTimeline(loadScenarioFile(`${dir}bradycardia.json`));
    assert.equal(brady.paramsAt(100).hrBpm, 35);
    const tachy = new ScenarioTimeline(loadScenarioFile(`${dir}tachycardia.json`));
    assert.equal(tachy.paramsAt(0).hrBpm, 80);
    assert.equal(tachy.paramsAt(120).hrBpm, 150);
    const off = new ScenarioTimeline(loadScenarioFile(`${dir}finger-off.json`));
    assert.equal(off.paramsAt(70).fingerOn, false);
    assert.equal(off.paramsAt(100).fingerOn, true);
    const motion = new ScenarioTimeline(loadScenarioFile(`${dir}motion.json`));
    assert.ok(motion.motionAt(32) > 0);
    assert.equal(motion.motionAt(40), 0);
    assert.equal(motion.paramsAt(32).hrBpm, 72);
  });
});

describe('scenario timeline', () => {
  test('"HR 72 → 38 over 20 s at t = 60 s" ramps linearly; a later event starts from where the ramp is', () => {
    const t = new ScenarioTimeline({
      name: 'x',
      initial: { hrBpm: 72 },
      events: [
        { atS: 60, overS: 20, set: { hrBpm: 38 } },
        { atS: 70, set: { hrBpm: 100 } },
        { atS: 80, overS: 10, set: { hrBpm: 60 } },
      ],
    });
    assert.equal(t.paramsAt(59).hrBpm, 72);
    assert.equal(t.paramsAt(65).hrBpm, 72 - 34 / 4);
    assert.equal(t.paramsAt(70).hrBpm, 100);
    assert.equal(t.paramsAt(85).hrBpm, 80);
    assert.equal(t.paramsAt(1000).hrBpm, 60);
  });

  test('defaults fill what the scenario leaves out; events may come in any order', () => {
    const t = new ScenarioTimeline({
      name: 'x',
      events: [
        { atS: 20, set: { spo2: 90 } },
        { atS: 10, set: { spo2: 80 } },
      ],
    });
    assert.equal(t.paramsAt(0).hrBpm, 72);
    assert.equal(t.paramsAt(15).spo2, 80);
    assert.equal(t.paramsAt(25).spo2, 90);
  });
});

describe('scenario validation', () => {
  const bad: [unknown, RegExp][] = [
    [{}, /must have required property 'name'/],
    [{ name: 'x', initial: { spo2: 101 } }, /\/initial\/spo2 must be <= 100/],
    [{ name: 'x', initial: { hr: 70 } }, /\/initial must NOT have additional properties "hr"/],
    [{ name: 'x', events: [{ atS: -1, set: {} }] }, /\/events\/0\/atS must be >= 0/],
    [{ name: 'x', events: [{ atS: 5 }] }, /\/events\/0 needs "set" or "motion"/],
    [{ name: 'x', loopS: 10, events: [{ atS: 20, set: { spo2: 90 } }] }, /past loopS/],
    [{ name: 'x', events: [{ atS: 1, motion: { durationS: 0 } }] }, /durationS must be > 0/],
  ];
  for (const [doc, msg] of bad) {
    test(`refuses ${JSON.stringify(doc)}`, () => {
      assert.throws(
        () => parseScenario(doc),
        (e: unknown) => e instanceof ScenarioError && msg.test(e.message),
      );
    });
  }

  test('a missing or malformed file gets a clear error', () => {
    assert.throws(() => loadScenarioFile('/nonexistent/x.json'), /cannot read \(ENOENT\)/);
    assert.throws(() => loadScenarioFile(fileURLToPath(import.meta.url)), /not valid JSON/);
  });
});
