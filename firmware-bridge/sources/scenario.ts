/**
 * Scenario timelines for the synthetic source: a JSON document with the patient's starting
 * state and timed events, e.g. "HR 72 → 38 over 20 s at t = 60 s" is
 * `{ "atS": 60, "overS": 20, "set": { "hrBpm": 38 } }` and "finger off at t = 120 s" is
 * `{ "atS": 120, "set": { "fingerOn": false } }`. Numbers ramp linearly over `overS`
 * (a step without it); booleans switch at `atS`; `motion` adds an artifact burst.
 * With `loopS` the timeline repeats forever (the start command's patients).
 * The schema is `ScenarioSchema` below; docs/HARDWARE.md describes it for people.
 */
import { readFileSync } from 'node:fs';
import { type Static, Type as T } from '@sinclair/typebox';
import { Ajv } from 'ajv';

export const PatientParamsSchema = T.Object(
  {
    hrBpm: T.Optional(T.Number({ minimum: 20, maximum: 300, description: 'heart rate, beats/min' })),
    spo2: T.Optional(T.Number({ minimum: 50, maximum: 100, description: 'arterial saturation, %' })),
    perfusionIndex: T.Optional(T.Number({ minimum: 0, maximum: 20, description: 'IR AC/DC, %' })),
    respRateBpm: T.Optional(T.Number({ minimum: 0, maximum: 60, description: 'breaths/min' })),
    respModulation: T.Optional(T.Number({ minimum: 0, maximum: 1, description: 'fraction of the pulse amplitude modulated by breathing' })),
    noise: T.Optional(T.Number({ minimum: 0, maximum: 0.05, description: 'white noise rms as a fraction of DC' })),
    irDc: T.Optional(T.Number({ minimum: 0, maximum: 262143, description: 'IR DC in counts at 6.4 mA, 4096 nA' })),
    redDc: T.Optional(T.Number({ minimum: 0, maximum: 262143, description: 'red DC in counts at 6.4 mA, 4096 nA' })),
    ambient: T.Optional(T.Number({ minimum: 0, maximum: 262143, description: 'uncancelled ambient light, counts' })),
    fingerOn: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
);
export type PatientParams = Static<typeof PatientParamsSchema>;

export const ScenarioEventSchema = T.Object(
  {
    atS: T.Number({ minimum: 0, description: 'seconds from the start of the timeline' }),
    overS: T.Optional(T.Number({ minimum: 0, description: 'ramp duration for numeric values; 0 = step' })),
    set: T.Optional(PatientParamsSchema),
    motion: T.Optional(
      T.Object(
        {
          durationS: T.Number({ exclusiveMinimum: 0, maximum: 3600 }),
          amplitude: T.Optional(T.Number({ minimum: 0, maximum: 50, description: 'artifact size in pulse amplitudes (default 4)' })),
        },
        { additionalProperties: false },
      ),
    ),
    note: T.Optional(T.String()),
  },
  { additionalProperties: false },
);
export type ScenarioEvent = Static<typeof ScenarioEventSchema>;

export const ScenarioSchema = T.Object(
  {
    $schema: T.Optional(T.String()),
    name: T.String({ minLength: 1 }),
    description: T.Optional(T.String()),
    seed: T.Optional(T.Integer({ minimum: 0 })),
    loopS: T.Optional(T.Number({ exclusiveMinimum: 0, description: 'repeat the timeline with this period' })),
    initial: T.Optional(PatientParamsSchema),
    events: T.Optional(T.Array(ScenarioEventSchema)),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof ScenarioSchema>;

export type ResolvedParams = Required<PatientParams>;

export const DEFAULT_PARAMS: Readonly<ResolvedParams> = Object.freeze({
  hrBpm: 72,
  spo2: 97,
  perfusionIndex: 2,
  respRateBpm: 14,
  respModulation: 0.1,
  noise: 0.0003,
  irDc: 120000,
  redDc: 90000,
  ambient: 0,
  fingerOn: true,
});

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

const ajv = new Ajv({ allErrors: false, strict: true });
const check = ajv.compile(ScenarioSchema);

/** Validates a parsed scenario document; the error names the JSON path and the rule. */
export function parseScenario(doc: unknown, where = 'scenario'): Scenario {
  if (!check(doc)) {
    const e = check.errors?.[0];
    const path = e?.instancePath || '/';
    const extra =
      e?.keyword === 'additionalProperties' ? ` "${String((e.params as { additionalProperty?: string }).additionalProperty)}"` : '';
    throw new ScenarioError(`${where}: ${path} ${e?.message ?? 'is invalid'}${extra}`);
  }
  const s = doc as Scenario;
  (s.events ?? []).forEach((ev, i) => {
    if (!ev.set && !ev.motion) throw new ScenarioError(`${where}: /events/${i} needs "set" or "motion"`);
    if (s.loopS !== undefined && ev.atS >= s.loopS)
      throw new ScenarioError(`${where}: /events/${i} at ${ev.atS} s is past loopS ${s.loopS} s`);
  });
  return s;
}

export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseScenario(doc, path);
}

type NumericKey = Exclude<keyof ResolvedParams, 'fingerOn'>;
const NUMERIC_KEYS = Object.keys(DEFAULT_PARAMS).filter((k) => k !== 'fingerOn') as NumericKey[];

interface Segment {
  t0: number;
  t1: number;
  v0: number;
  v1: number;
}

/** A scenario turned into functions of time: the patient's parameters and motion bursts at t seconds. */
export class ScenarioTimeline {
  readonly name: string;
  readonly seed: number;
  private readonly loopS: number | undefined;
  private readonly initial: ResolvedParams;
  private readonly segments = new Map<NumericKey, Segment[]>();
  private readonly fingerSwitches: { at: number; on: boolean }[] = [];
  readonly motionBursts: { t0: number; t1: number; amplitude: number }[] = [];

  constructor(scenario: Scenario) {
    this.name = scenario.name;
    this.seed = scenario.seed ?? 1;
    this.loopS = scenario.loopS;
    this.initial = { ...DEFAULT_PARAMS, ...(scenario.initial ?? {}) };
    const events = [...(scenario.events ?? [])].sort((a, b) => a.atS - b.atS);
    for (const key of NUMERIC_KEYS) {
      const segs: Segment[] = [];
      for (const ev of events) {
        const target = ev.set?.[key];
        if (target === undefined) continue;
        const v0 = this.valueFrom(segs, this.initial[key], ev.atS);
        segs.push({ t0: ev.atS, t1: ev.atS + (ev.overS ?? 0), v0, v1: target });
      }
      this.segments.set(key, segs);
    }
    for (const ev of events) {
      if (ev.set?.fingerOn !== undefined) this.fingerSwitches.push({ at: ev.atS, on: ev.set.fingerOn });
      if (ev.motion) this.motionBursts.push({ t0: ev.atS, t1: ev.atS + ev.motion.durationS, amplitude: ev.motion.amplitude ?? 4 });
    }
  }

  private valueFrom(segs: readonly Segment[], initial: number, t: number): number {
    let v = initial;
    for (const s of segs) {
      if (t < s.t0) break;
      v = t >= s.t1 ? s.v1 : s.v0 + ((s.v1 - s.v0) * (t - s.t0)) / (s.t1 - s.t0);
    }
    return v;
  }

  private local(tS: number): number {
    return this.loopS ? tS % this.loopS : tS;
  }

  paramsAt(tS: number): ResolvedParams {
    const t = this.local(tS);
    const out = { ...this.initial };
    for (const key of NUMERIC_KEYS) out[key] = this.valueFrom(this.segments.get(key)!, this.initial[key], t);
    for (const f of this.fingerSwitches) {
      if (t < f.at) break;
      out.fingerOn = f.on;
    }
    return out;
  }

  /** Motion artifact size (pulse amplitudes) at t, 0 outside bursts. */
  motionAt(tS: number): number {
    const i = this.burstAt(tS);
    return i < 0 ? 0 : this.motionBursts[i]!.amplitude;
  }

  /** Index of the strongest motion burst active at t (bursts may overlap), −1 if none. */
  burstAt(tS: number): number {
    const t = this.local(tS);
    let best = -1;
    this.motionBursts.forEach((b, i) => {
      if (t >= b.t0 && t < b.t1 && (best < 0 || b.amplitude > this.motionBursts[best]!.amplitude)) best = i;
    });
    return best;
  }
}
