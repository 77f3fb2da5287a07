/**
 * npm run bench:accuracy -- --data ../shared/data
 *
 * Runs the signal pipeline and a port of Maxim's RD117 reference algorithm
 * side by side over every usable recording and prints, as Markdown: HR
 * against the Welltory chest strap and BIDMC ECG lead II, SpO2 on OxiWear by
 * leave-one-out, SQI separation of injected corruption, wrong numbers left in
 * corrupted spans, the alsementsov labels, dead and saturated recordings, and
 * coverage. The split between tuning and reporting data is printed with it.
 */
import { parseArgs } from 'node:util';
import { fitCalibration, getCalibration, spo2FromRatio } from '../../gateway/signal/calibrations.ts';
import { analyzeRecording, type VitalsEstimate } from '../../gateway/signal/index.ts';
import { CORRUPTIONS, type CorruptionKind, corrupt, pulseOf } from './lib/corrupt.ts';
import { alsementsov, bidmc, countsGain, type Dataset, oxiwearProto1, rd117Input, welltory } from './lib/datasets.ts';
import { auc, fmt, mean, pct, table } from './lib/metrics.ts';
import { derivativeRatio, wholeFileRatio } from './lib/ratio-estimators.ts';
import { rd117Stream } from './lib/rd117.ts';
import { beatsFromRr, periodogramPeakBpm, rateAt } from './lib/reference.ts';
import { detectRPeaks } from './lib/rpeaks.ts';
import { ALSEMENTSOV_TUNING, overlap, spansFor, WELLTORY_TUNING } from './lib/splits.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data' },
    'tuning-bases': { type: 'boolean', default: false },
    /** Independent draws of each corruption per recording: one draw can be lucky. */
    draws: { type: 'string', default: '5' },
  },
});
/** Run the corruption experiment on the tuning recordings instead (for adjusting thresholds without touching the reported set). */
const tuningBases = values['tuning-bases'] === true;
const root = values.data!;
const CORRUPTION_DRAWS = Number(values.draws);
if (!Number.isInteger(CORRUPTION_DRAWS) || CORRUPTION_DRAWS < 1) {
  console.error(`--draws must be a whole number ≥ 1, not ${values.draws}`);
  process.exit(2);
}
const started = performance.now();
const out: string[] = [];
const say = (s = '') => {
  out.push(s);
  process.stdout.write(`${s}\n`);
};

/** Chest-strap beats shifted by this much (s); one value for the dataset, chosen on the tuning subjects. */
const WELLTORY_RR_OFFSET_S = -1;
const OUR_WINDOW_S = 8;
const RD117_WINDOW_S = 4;

interface MethodOut {
  t: number;
  hr: number | null;
  spo2: number | null;
  sqi?: number;
}

function runOurs(d: Dataset, red = d.red, ir = d.ir, calibration?: Parameters<typeof analyzeRecording>[1]): VitalsEstimate[] {
  return analyzeRecording({ rateHz: d.rec.rateHz, red, ir }, { fullScale: d.fullScale, ...calibration }).estimates;
}

function runRd117(d: Dataset, red = d.red, ir = d.ir, gain = 1): MethodOut[] {
  const pulse = (ir ?? red)!;
  const x = rd117Input(pulse, d.rec.rateHz, gain);
  const y = red && ir ? rd117Input(red, d.rec.rateHz, gain) : x;
  return rd117Stream(x, y).map((r) => ({ t: r.t, hr: r.hr, spo2: red && ir ? r.spo2 : null }));
}

interface HrScore {
  errors: number[];
  covered: number;
  eligible: number;
}

function scoreHr(est: readonly MethodOut[], beats: number[], windowS: number): HrScore {
  const errors: number[] = [];
  let covered = 0;
  let eligible = 0;
  for (const e of est) {
    const ref = rateAt(beats, e.t, windowS);
    if (e.t > 10 && !Number.isNaN(ref)) {
      eligible++;
      if (e.hr !== null) covered++;
    }
    if (e.hr !== null && !Number.isNaN(ref)) errors.push(Math.abs(e.hr - ref));
  }
  return { errors, covered, eligible };
}

const maxOf = (v: number[]) => (v.length ? Math.max(...v) : Number.NaN);

// ---------------------------------------------------------------- HR: Welltory chest strap
const wt = welltory(root);
say('# Signal accuracy benchmark');
say();
say(`Data: \`${root}\`. Command: \`npm run bench:accuracy -- --data ${root}\`.`);
say();
say('## HR against the Welltory chest strap (Polar H10 RR)');
say();
say(
  `Per second, each method against the mean rate of the chest-strap beats in its own window (ours ${OUR_WINDOW_S} s, RD117 ${RD117_WINDOW_S} s); RR beats shifted by ${WELLTORY_RR_OFFSET_S} s (one offset for the dataset, chosen on the tuning subjects). Tuning subjects: ${[...WELLTORY_TUNING].join(', ')}; the others were not used for tuning (docs/SIGNAL.md tells of one early look at aggregate figures). MAE pools every second with a value; coverage counts seconds after the first 10 s.`,
);
say();
const saturated = (d: Dataset) => {
  const x = (d.red ?? d.ir)!;
  let at = 0;
  for (const v of x) if (v >= 0.99 * d.fullScale) at++;
  return at / x.length > 0.5;
};
const hrRows: (string | number)[][] = [];
const pooled: Record<string, { ours: HrScore[]; rd: HrScore[] }> = { tune: { ours: [], rd: [] }, test: { ours: [], rd: [] } };
const saturatedRows: (string | number)[][] = [];
for (const d of wt) {
  const beats = beatsFromRr(d.rec.meta.reference?.rrMs ?? [], WELLTORY_RR_OFFSET_S);
  const ours = runOurs(d);
  const rd = runRd117(d, d.red, undefined, countsGain(d.red!));
  const split = WELLTORY_TUNING.has(d.name) ? 'tune' : 'test';
  if (saturated(d)) {
    const oursN = ours.filter((e) => e.hr !== null).length;
    const rdVals = rd.filter((e) => e.hr !== null).map((e) => e.hr!);
    saturatedRows.push([
      `Welltory ${d.name} (camera saturated at 255)`,
      `${oursN} of ${ours.length} s`,
      `${rdVals.length} of ${rd.length} s${rdVals.length ? ` (${Math.min(...rdVals)}–${Math.max(...rdVals)} bpm)` : ''}`,
    ]);
    hrRows.push([d.name, split, 'saturated', `${oursN} values`, '', '', `${rdVals.length} values`, '', '']);
    continue;
  }
  const so = scoreHr(ours, beats, OUR_WINDOW_S);
  const sr = scoreHr(rd, beats, RD117_WINDOW_S);
  pooled[split]!.ours.push(so);
  pooled[split]!.rd.push(sr);
  hrRows.push([
    d.name,
    split,
    '',
    fmt(mean(so.errors)),
    fmt(maxOf(so.errors), 1),
    pct(so.covered / so.eligible, 0),
    fmt(mean(sr.errors)),
    fmt(maxOf(sr.errors), 1),
    pct(sr.covered / sr.eligible, 0),
  ]);
}
say(table(['subject', 'split', '', 'ours MAE', 'ours max err', 'ours coverage', 'RD117 MAE', 'RD117 max err', 'RD117 coverage'], hrRows));
say();
const agg = (scores: HrScore[]) => {
  const all = scores.flatMap((s) => s.errors);
  return {
    mae: mean(all),
    worstRecording: maxOf(scores.map((s) => mean(s.errors)).filter((v) => !Number.isNaN(v))),
    over10: all.filter((e) => e > 10).length / all.length,
    coverage: scores.reduce((a, s) => a + s.covered, 0) / scores.reduce((a, s) => a + s.eligible, 0),
  };
};
const aggRows: (string | number)[][] = [];
for (const split of ['test', 'tune'] as const) {
  const o = agg(pooled[split]!.ours);
  const r = agg(pooled[split]!.rd);
  aggRows.push([
    split === 'test' ? '**test (not tuned on)**' : 'tuning',
    fmt(o.mae),
    fmt(o.worstRecording),
    pct(o.over10),
    pct(o.coverage),
    fmt(r.mae),
    fmt(r.worstRecording),
    pct(r.over10),
    pct(r.coverage),
  ]);
}
say(
  table(
    [
      'Welltory',
      'ours MAE',
      'ours worst recording MAE',
      'ours seconds > 10 bpm off',
      'ours coverage',
      'RD117 MAE',
      'RD117 worst',
      'RD117 > 10 bpm',
      'RD117 coverage',
    ],
    aggRows,
  ),
);
say();

// ---------------------------------------------------------------- HR: BIDMC ECG
const bi = bidmc(root);
let bidmcBeats: number[] = [];
if (bi.length) {
  const d = bi[0]!;
  const ecg = d.rec.extra?.II;
  bidmcBeats = ecg ? detectRPeaks(ecg, d.rec.rateHz).map((i) => i / d.rec.rateHz) : [];
  const ours = runOurs(d);
  const rd = runRd117(d, undefined, d.ir);
  const so = scoreHr(ours, bidmcBeats, OUR_WINDOW_S);
  const sr = scoreHr(rd, bidmcBeats, RD117_WINDOW_S);
  say('## HR against ECG lead II (BIDMC record 01, 480 s, never tuned on)');
  say();
  say(
    `R peaks by the Pan–Tompkins-style detector in \`test/bench/lib/rpeaks.ts\` (${bidmcBeats.length} beats, mean ${fmt((60 * (bidmcBeats.length - 1)) / (bidmcBeats.at(-1)! - bidmcBeats[0]!), 1)} bpm). PLETH is fed as an intensity (−PLETH, offset).`,
  );
  say();
  say(
    table(
      ['method', 'MAE (bpm)', 'max err', 'seconds > 5 bpm off', 'coverage after 10 s'],
      [
        [
          'ours',
          fmt(mean(so.errors)),
          fmt(maxOf(so.errors), 1),
          pct(so.errors.filter((e) => e > 5).length / so.errors.length),
          pct(so.covered / so.eligible),
        ],
        [
          'RD117',
          fmt(mean(sr.errors)),
          fmt(maxOf(sr.errors), 1),
          pct(sr.errors.filter((e) => e > 5).length / sr.errors.length),
          pct(sr.covered / sr.eligible),
        ],
      ],
    ),
  );
  say();
}

// ---------------------------------------------------------------- SpO2: OxiWear leave-one-out
const ox = oxiwearProto1(root);
if (ox.length) {
  say('## SpO2 on OxiWear proto1 (MAXM86161, reference 70–98 %), leave-one-out');
  say();
  const rows = ox.map((d) => {
    const res = analyzeRecording({ rateHz: d.rec.rateHz, red: d.red, ir: d.ir }, { fullScale: d.fullScale, calibration: 'maxm86161' });
    const rd = runRd117(d, d.red, d.ir);
    const rdSpo2 = rd.filter((e) => e.spo2 !== null).map((e) => e.spo2!);
    const rdR = rd117Stream(rd117Input(d.ir!, d.rec.rateHz), rd117Input(d.red!, d.rec.rateHz))
      .filter((e) => e.ratio !== null)
      .map((e) => e.ratio! / 100);
    const med = (v: number[]) => (v.length ? [...v].sort((a, b) => a - b)[v.length >> 1]! : null);
    return {
      name: d.name,
      ref: d.rec.meta.reference?.spo2 as number,
      refHr: d.rec.meta.reference?.hrBpm as number,
      r: res.summary.r,
      hr: res.summary.hr,
      rdSpo2: med(rdSpo2),
      rdR: med(rdR),
      rWhole: wholeFileRatio(d.red!, d.ir!, d.rec.rateHz),
      rDerivative: derivativeRatio(d.red!, d.ir!, d.rec.rateHz),
      seconds: d.ir!.length / d.rec.rateHz,
    };
  });
  type Shape = 'line' | 'quadratic' | 'log';
  const SHAPES: readonly Shape[] = ['line', 'quadratic', 'log'];
  /** The shipped maxm86161 form (docs/SIGNAL.md tells how it was chosen). */
  const SHIPPED: Shape = getCalibration('maxm86161').form === 'log' ? 'log' : 'line';
  type Row = (typeof rows)[number];
  const pairsOf = (pick: (x: Row) => number | null, except: ReadonlySet<number>) =>
    rows.flatMap((o, j) => (!except.has(j) && pick(o) !== null ? [{ r: pick(o)!, spo2: o.ref }] : []));
  const loo = (pick: (x: Row) => number | null, shape: Shape) =>
    rows.map((row, i) => {
      const r = pick(row);
      if (r === null) return null;
      return spo2FromRatio(fitCalibration('loo', '0', 'leave-one-out', pairsOf(pick, new Set([i])), shape), r);
    });
  /** Arms of an inner leave-one-out over the files not in `out`, for one shape. */
  const innerArms = (pick: (x: Row) => number | null, shape: Shape, out: number) => {
    let sum = 0;
    let n = 0;
    rows.forEach((row, j) => {
      const r = pick(row);
      if (j === out || r === null) return;
      const p = spo2FromRatio(fitCalibration('inner', '0', '', pairsOf(pick, new Set([out, j])), shape), r);
      if (p === null) return;
      sum += (p - row.ref) ** 2;
      n++;
    });
    return Math.sqrt(sum / n);
  };
  /** The choice of shape made inside each fold, on the other files only: what choosing the shape on these data is worth. */
  const chosenShape: Shape[] = [];
  const nested = rows.map((row, i) => {
    if (row.r === null) return null;
    let best: Shape = 'line';
    let bestArms = Number.POSITIVE_INFINITY;
    for (const shape of SHAPES) {
      const a = innerArms((x) => x.r, shape, i);
      if (a < bestArms) [best, bestArms] = [shape, a];
    }
    chosenShape.push(best);
    return spo2FromRatio(
      fitCalibration(
        'loo',
        '0',
        'leave-one-out',
        pairsOf((x) => x.r, new Set([i])),
        best,
      ),
      row.r,
    );
  });
  const oursLoo = loo((x) => x.r, SHIPPED);
  const stats = (pred: (number | null)[]) => {
    const err = pred.flatMap((p, i) => (p === null ? [] : [p - rows[i]!.ref]));
    return {
      arms: Math.sqrt(mean(err.map((e) => e * e))),
      bias: mean(err),
      n: err.length,
      within4: err.filter((e) => Math.abs(e) <= 4).length,
    };
  };
  const o = stats(oursLoo);
  const ofixed = stats(rows.map((x) => (x.r === null ? null : spo2FromRatio(getCalibration('max30102'), x.r))));
  const rFixed = stats(rows.map((x) => x.rdSpo2));
  const full = fitCalibration(
    'maxm86161',
    '2',
    'all OxiWear proto1',
    rows.flatMap((x) => (x.r === null ? [] : [{ r: x.r, spo2: x.ref }])),
    SHIPPED,
  );
  const formula =
    SHIPPED === 'log' ? `SpO2 = ${full.b.toFixed(3)}·ln R + ${full.c.toFixed(3)}` : `SpO2 = ${full.b.toFixed(3)}·R + ${full.c.toFixed(3)}`;
  const count = (shape: Shape) => chosenShape.filter((s) => s === shape).length;
  // Paired bootstrap over files (fixed seed): how sure the shipped form's gain over a line is.
  const lineLoo = loo((x) => x.r, 'line');
  const paired = rows.flatMap((x, i) =>
    oursLoo[i] != null && lineLoo[i] != null ? [[(oursLoo[i]! - x.ref) ** 2, (lineLoo[i]! - x.ref) ** 2] as const] : [],
  );
  let seed = 12345;
  const uniform = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const boot: number[] = [];
  for (let b = 0; b < 10_000; b++) {
    let shipped = 0;
    let line = 0;
    for (let k = 0; k < paired.length; k++) {
      const [e1, e2] = paired[Math.floor(uniform() * paired.length)]!;
      shipped += e1;
      line += e2;
    }
    boot.push(Math.sqrt(shipped / paired.length) - Math.sqrt(line / paired.length));
  }
  boot.sort((p, q) => p - q);
  const better = paired.filter(([e1, e2]) => e1 < e2).length;
  say(
    `Each file's R is the median over its per-second estimates (files last 2.6–6.7 s, so mostly one or two). For each file, the curve is fitted on the other ${rows.length - 1} and applied to it. Fit on all ${o.n} files (the shipped \`maxm86161\` curve): ${formula}, valid for R ${full.rMin.toFixed(3)}–${full.rMax.toFixed(3)}; R seen ${Math.min(...rows.flatMap((x) => (x.r === null ? [] : [x.r]))).toFixed(3)}–${Math.max(...rows.flatMap((x) => (x.r === null ? [] : [x.r]))).toFixed(3)}. The form (${SHIPPED}) was chosen on these same files; the "shape chosen inside each fold" row repeats that choice among ${SHAPES.join(', ')} by an inner leave-one-out on the other files only, so the held-out file plays no part in it (chosen: ${SHAPES.map((s) => `${s} ${count(s)}×`).join(', ')}). Arms of the ${SHIPPED} form minus that of a line, paired bootstrap over the files (10 000 resamples, fixed seed): 95 % interval ${fmt(boot[250]!)} to ${fmt(boot[9750]!)} points, below zero in ${pct(boot.filter((d) => d < 0).length / boot.length, 0)} of resamples; ${better} of ${paired.length} files are closer to their reference with it.`,
  );
  say();
  const row = (label: string, x: ReturnType<typeof stats>) => [
    label,
    `${x.n} / ${rows.length}`,
    fmt(x.arms),
    fmt(x.bias),
    `${x.within4} / ${x.n}`,
  ];
  say(
    table(
      ['method', 'files with a value', 'Arms (%)', 'bias (%)', 'within ±4 %'],
      [
        row(`**ours, maxm86161 (${SHIPPED}) leave-one-out**`, o),
        row('ours, shape chosen inside each fold (nested leave-one-out)', stats(nested)),
        ...SHAPES.filter((s) => s !== SHIPPED).map((s) => row(`ours, ${s} leave-one-out`, stats(loo((x) => x.r, s)))),
        row('ours, R through the max30102 curve (wrong sensor)', ofixed),
        row(`R over the whole file, zero-phase band-pass (${SHIPPED}) leave-one-out`, stats(loo((x) => x.rWhole, SHIPPED))),
        row(`R from first differences over the whole file (${SHIPPED}) leave-one-out`, stats(loo((x) => x.rDerivative, SHIPPED))),
        row('RD117 (its own curve)', rFixed),
        ...SHAPES.map((s) => row(`RD117 R, refitted leave-one-out (${s})`, stats(loo((x) => x.rdR, s)))),
      ],
    ),
  );
  say();
  const hrErr = rows.flatMap((x) => (x.hr === null ? [] : [Math.abs(x.hr - x.refHr)]));
  say(
    `Per-file detail (ref, R, leave-one-out SpO2, RD117 SpO2): ${rows.map((x, i) => `${x.name}: ${x.ref}/${fmt(x.r, 3)}/${fmt(oursLoo[i], 1)}/${x.rdSpo2 ?? '–'}`).join('; ')}.`,
  );
  say();
  say(`HR on the same files against the file-name reference HR (device unknown): MAE ${fmt(mean(hrErr))} bpm over ${hrErr.length} files.`);
  say();
}

// ---------------------------------------------------------------- Quality: injected corruption
const al = alsementsov(root);
const labelOf = (d: Dataset) => d.rec.meta.reference?.label ?? '';
const cleanBases: { d: Dataset; truth: (t: number, windowS: number) => { hr: number; spo2: number } }[] = [];
for (const d of wt) {
  if (WELLTORY_TUNING.has(d.name) !== tuningBases || saturated(d)) continue;
  const beats = beatsFromRr(d.rec.meta.reference?.rrMs ?? [], WELLTORY_RR_OFFSET_S);
  cleanBases.push({ d, truth: (t, w) => ({ hr: rateAt(beats, t, w), spo2: Number.NaN }) });
}
if (!tuningBases) for (const d of bi) cleanBases.push({ d, truth: (t, w) => ({ hr: rateAt(bidmcBeats, t, w), spo2: Number.NaN }) });
for (const d of al.filter((x) => (tuningBases ? ALSEMENTSOV_TUNING.test(x.name) : /^(good|superb)$/.test(labelOf(x))))) {
  // No reference device: the truth is each method's own output on the clean recording.
  const clean = runOurs(d);
  const byT = new Map(clean.map((e) => [e.t, e]));
  cleanBases.push({ d, truth: (t) => ({ hr: byT.get(t)?.hr ?? Number.NaN, spo2: byT.get(t)?.spo2 ?? Number.NaN }) });
}

/**
 * For a Welltory recording: does the window ending at t carry the chest strap's heartbeat, i.e. is its
 * strongest periodogram peak within 10 % of the strap's rate over the same window?
 */
function carryingFilter(d: Dataset): (t: number) => boolean {
  const beats = beatsFromRr(d.rec.meta.reference?.rrMs ?? [], WELLTORY_RR_OFFSET_S);
  const pulse = pulseOf(d.red!, d.rec.rateHz);
  return (t) => {
    const ref = rateAt(beats, t, OUR_WINDOW_S);
    return Math.abs(periodogramPeakBpm(pulse, d.rec.rateHz, t, OUR_WINDOW_S) - ref) <= 0.1 * ref;
  };
}

interface Tally {
  hrOut: number;
  hrWrong: number;
  spo2Out: number;
  spo2Wrong: number;
}
const newTally = (): Tally => ({ hrOut: 0, hrWrong: 0, spo2Out: 0, spo2Wrong: 0 });
type Group = 'contact' | 'camera';
interface GroupStats {
  sqiClean: number[];
  sqiClean2: number[];
  /** Clean windows of the uncorrupted recording that carry the heartbeat (camera: periodogram peak within 10 % of the chest strap). */
  sqiCarrying: number[];
  sqiBad: Record<CorruptionKind, number[]>;
  ours: Record<CorruptionKind, Tally>;
  rd: Record<CorruptionKind, Tally>;
}
const newGroup = (): GroupStats => {
  const g: GroupStats = {
    sqiClean: [],
    sqiClean2: [],
    sqiCarrying: [],
    sqiBad: { motion: [], spikes: [], 'noise-0dB': [], clipping: [], 'pulse-removed': [] },
    ours: {} as Record<CorruptionKind, Tally>,
    rd: {} as Record<CorruptionKind, Tally>,
  };
  for (const k of CORRUPTIONS) {
    g.ours[k] = newTally();
    g.rd[k] = newTally();
  }
  return g;
};
const groups: Record<Group, GroupStats> = { contact: newGroup(), camera: newGroup() };
let baseIndex = 0;
for (const { d, truth } of cleanBases) {
  const seconds = (d.ir ?? d.red)!.length / d.rec.rateHz;
  const spans = spansFor(seconds);
  const channels = [d.ir, d.red].filter((c): c is Float64Array => c !== undefined);
  const gain = d.ir && d.red ? 1 : countsGain((d.ir ?? d.red)!);
  const rdClean = d.red && d.ir ? runRd117(d) : [];
  const rdCleanByT = new Map(rdClean.map((e) => [e.t, e]));
  // Welltory is a phone camera; the others are contact sensors on a finger (MAX30102, ICU pleth).
  const camera = d.rec.meta.format === 'welltory-ppg';
  const g = groups[camera ? 'camera' : 'contact'];
  // Clean windows: the uncorrupted recording, at every window position no span touches.
  const carrying = camera ? carryingFilter(d) : undefined;
  for (const e of runOurs(d)) {
    if (e.t < 10 || overlap(spans, e.t - OUR_WINDOW_S, e.t) > 0) continue;
    g.sqiClean2.push(e.sqi);
    if (carrying?.(e.t)) g.sqiCarrying.push(e.sqi);
  }
  for (const kind of CORRUPTIONS)
    for (let draw = 0; draw < CORRUPTION_DRAWS; draw++) {
      const bad = corrupt(channels, d.rec.rateHz, spans, kind, d.fullScale, 1000 + baseIndex + 100 * draw);
      const ir = d.ir ? bad[0] : undefined;
      const red = d.red ? bad[d.ir ? 1 : 0] : undefined;
      const evaluate = (est: readonly MethodOut[], windowS: number, tally: Tally, ownTruth?: Map<number, MethodOut>, sqi?: boolean) => {
        for (const e of est) {
          if (e.t < 10) continue;
          const frac = overlap(spans, e.t - windowS, e.t);
          if (sqi && e.sqi !== undefined) {
            if (frac === 0) {
              if (kind === 'motion') g.sqiClean.push(e.sqi);
            } else if (frac >= 0.5) g.sqiBad[kind].push(e.sqi);
          }
          if (frac === 0) continue;
          // Pulse gone for the last 3 s of the window: any number is a wrong number.
          const pulseGone = kind === 'pulse-removed' && overlap(spans, e.t - 3, e.t) === 1;
          const tr = ownTruth
            ? { hr: ownTruth.get(e.t)?.hr ?? Number.NaN, spo2: ownTruth.get(e.t)?.spo2 ?? Number.NaN }
            : truth(e.t, windowS);
          if (e.hr !== null && (pulseGone || !Number.isNaN(tr.hr))) {
            tally.hrOut++;
            if (pulseGone || Math.abs(e.hr - tr.hr) > 10) tally.hrWrong++;
          }
          if (e.spo2 !== null && (pulseGone || !Number.isNaN(tr.spo2))) {
            tally.spo2Out++;
            if (pulseGone || Math.abs(e.spo2 - tr.spo2) > 4) tally.spo2Wrong++;
          }
        }
      };
      evaluate(runOurs(d, red, ir), OUR_WINDOW_S, g.ours[kind], undefined, true);
      const rd = runRd117(d, red, ir, gain);
      evaluate(rd, RD117_WINDOW_S, g.rd[kind], d.red && d.ir ? (rdCleanByT as Map<number, MethodOut>) : undefined);
    }
  baseIndex++;
}
say('## Quality: corruption injected into good recordings');
say();
say(
  `Bases: ${tuningBases ? 'TUNING SET (Welltory tuning subjects, unlabelled alsementsov files)' : 'Welltory test subjects (not saturated), BIDMC 01, alsementsov good/superb files'} (${cleanBases.length} recordings). In each, 10 s spans from 15 s every 25 s are corrupted with one kind at a time, each kind drawn ${CORRUPTION_DRAWS} times with its own seed (\`--draws\`; test/bench/lib/corrupt.ts): motion swings 5–10× the pulse at 0.2–3 Hz; spikes 5–15× the pulse about twice a second; band-limited (0.5–5 Hz) noise at 0 dB against the band-passed pulse; gain into the ADC's full scale until 70 % of the span is clipped; the pulse replaced by the 6-s baseline. Windows at least half corrupted are "corrupted"; they are compared with two sets of clean windows at the positions no span touches: those of the uncorrupted recording, and those of the corrupted run itself (which also measures how fast the index recovers after an artifact; this was the first definition computed). Wrong numbers count every value whose window touches a span: HR more than 10 bpm from the reference (chest strap, ECG, or for alsementsov the method's own output on the clean file), SpO2 more than 4 points from the clean output, and any value at all once the pulse has been gone for the last 3 s of the window.`,
);
say();
function qualityTable(title: string, parts: GroupStats[]): void {
  const clean = parts.flatMap((p) => p.sqiClean);
  const bad = (k: CorruptionKind) => parts.flatMap((p) => p.sqiBad[k]);
  const allBad = CORRUPTIONS.flatMap(bad);
  const sum = (m: 'ours' | 'rd', k: CorruptionKind | 'all', f: keyof Tally) =>
    parts.reduce((s, p) => s + (k === 'all' ? CORRUPTIONS.reduce((a, c) => a + p[m][c][f], 0) : p[m][k][f]), 0);
  const row = (k: CorruptionKind | 'all') => [
    k === 'all' ? '**all**' : k,
    fmt(k === 'all' ? auc(clean2, allBad) : auc(clean2, bad(k)), 3),
    fmt(k === 'all' ? auc(clean, allBad) : auc(clean, bad(k)), 3),
    sum('ours', k, 'hrOut'),
    pct(sum('ours', k, 'hrWrong') / sum('ours', k, 'hrOut')),
    sum('ours', k, 'spo2Out'),
    pct(sum('ours', k, 'spo2Wrong') / sum('ours', k, 'spo2Out')),
    sum('rd', k, 'hrOut'),
    pct(sum('rd', k, 'hrWrong') / sum('rd', k, 'hrOut')),
    sum('rd', k, 'spo2Out'),
    pct(sum('rd', k, 'spo2Wrong') / sum('rd', k, 'spo2Out')),
  ];
  const clean2 = parts.flatMap((p) => p.sqiClean2);
  // Camera windows only where they carry the heartbeat; contact recordings (labelled good, ICU) as they are.
  const carrying = parts.some((p) => p.sqiCarrying.length)
    ? parts.flatMap((p) => (p.sqiCarrying.length ? p.sqiCarrying : p.sqiClean2))
    : [];
  const withCarrying = (cells: (string | number)[], k: CorruptionKind | 'all') =>
    carrying.length
      ? [...cells.slice(0, 2), fmt(k === 'all' ? auc(carrying, allBad) : auc(carrying, bad(k)), 3), ...cells.slice(2)]
      : cells;
  say(`### ${title} (${allBad.length} corrupted windows)`);
  say();
  say(
    table(
      [
        'corruption',
        `SQI AUC vs the uncorrupted recording (${clean2.length} windows)`,
        ...(carrying.length ? [`… camera windows only where they carry the heartbeat (${carrying.length})`] : []),
        `SQI AUC vs clean windows of the same run (${clean.length})`,
        'ours HR values',
        'ours HR > 10 bpm wrong',
        'ours SpO2 values',
        'ours SpO2 > 4 wrong',
        'RD117 HR values',
        'RD117 HR wrong',
        'RD117 SpO2 values',
        'RD117 SpO2 wrong',
      ],
      [...CORRUPTIONS.map((k) => withCarrying(row(k), k)), withCarrying(row('all'), 'all')],
    ),
  );
  say();
}
qualityTable('Contact sensors: MAX30102 finger (alsementsov) and ICU pleth (BIDMC)', [groups.contact]);
qualityTable('Phone camera (Welltory)', [groups.camera]);
qualityTable('All recordings pooled', [groups.contact, groups.camera]);
say(
  'RD117 has no quality index, so it has no AUC. A phone camera does not see the pulse all the time: the "carry the heartbeat" column keeps only the clean windows whose periodogram peak (`periodogramPeakBpm` in test/bench/lib/reference.ts, no pipeline code) lies within 10 % of the chest strap\'s rate.',
);
say();

/** Longest run of seconds whose band-passed IR amplitude is under 20 % of the early pulse's (independent of the pipeline). */
function pulseFreeStretch(d: Dataset): [number, number] {
  const fs = d.rec.rateHz;
  const p = pulseOf(d.ir!, fs);
  const secs = Math.floor(p.length / fs);
  const amp: number[] = [];
  for (let s = 0; s < secs; s++) {
    let sum = 0;
    for (let i = s * fs; i < (s + 1) * fs; i++) sum += p[i]! * p[i]!;
    amp.push(Math.sqrt(sum / fs));
  }
  const ref = [...amp.slice(3, 20)].sort((a, b) => a - b)[8]!;
  // Longest run of seconds with a band-passed amplitude under 20 % of the early pulse's.
  let best: [number, number] = [0, 0];
  for (let s = 0; s < secs; ) {
    if (amp[s]! >= 0.2 * ref) {
      s++;
      continue;
    }
    let e = s;
    while (e < secs && amp[e]! < 0.2 * ref) e++;
    if (e - s > best[1] - best[0]) best = [s, e];
    s = e;
  }
  return best;
}

// ---------------------------------------------------------------- alsementsov labels
if (al.length) {
  say('## SQI on the labelled alsementsov files (MAX30102, 25 Hz)');
  say();
  const good: number[] = [];
  const badSqi: number[] = [];
  const badStrict: number[] = [];
  const badStrictNoLow: number[] = [];
  const rows: (string | number)[][] = [];
  for (const d of al) {
    const label = labelOf(d);
    const est = runOurs(d).filter((e) => e.t >= 10);
    const rd = runRd117(d);
    const s = est.map((e) => e.sqi);
    if (/^(good|superb)$/.test(label)) good.push(...s);
    if (/^(bad|lowbad|dead)$/.test(label)) badSqi.push(...s);
    if (/^(bad|lowbad)$/.test(label)) badStrict.push(...s);
    if (label === 'bad') badStrictNoLow.push(...s);
    if (label === 'dead') {
      const [a, b] = pulseFreeStretch(d);
      const inside = est.filter((e) => e.t > a && e.t <= b).map((e) => e.sqi);
      badStrict.push(...inside);
      badStrictNoLow.push(...inside);
    }
    const hrs = est.filter((e) => e.hr !== null).map((e) => e.hr!);
    const sp = est.filter((e) => e.spo2 !== null).map((e) => e.spo2!);
    const rdHr = rd.filter((e) => e.t >= 10 && e.hr !== null).length;
    const rdSp = rd.filter((e) => e.t >= 10 && e.spo2 !== null).map((e) => e.spo2!);
    const med = (v: number[]) => (v.length ? [...v].sort((a, b) => a - b)[v.length >> 1]! : Number.NaN);
    rows.push([
      d.name,
      label || '(none)',
      Math.round((d.ir!.length / d.rec.rateHz) * 10) / 10,
      fmt(mean(s)),
      pct(hrs.length / Math.max(1, est.length), 0),
      fmt(med(hrs), 0),
      pct(sp.length / Math.max(1, est.length), 0),
      fmt(med(sp), 1),
      pct(rdHr / Math.max(1, rd.filter((e) => e.t >= 10).length), 0),
      fmt(med(rdSp), 0),
    ]);
  }
  say(`Per-second SQI AUC, good/superb (${good.length} s) against bad/lowbad/dead (${badSqi.length} s): **${fmt(auc(good, badSqi), 3)}**.`);
  say();
  say(
    `The labels are per file, and some are doubtful (see the table): a "dead" file has a pulse for most of its length, and several "lowbad" files and one "bad" file read like clean signal. With the dead files counted only over their pulse-free stretch (found from the raw amplitude): **${fmt(auc(good, badStrict), 3)}** (${badStrict.length} s); also leaving out "lowbad": **${fmt(auc(good, badStrictNoLow), 3)}** (${badStrictNoLow.length} s).`,
  );
  say();
  say(
    table(
      ['file', 'label', 's', 'mean SQI', 'HR shown', 'median HR', 'SpO2 shown', 'median SpO2', 'RD117 HR shown', 'RD117 median SpO2'],
      rows,
    ),
  );
  say();

  // Dead recordings: find the pulse-free stretch from the raw amplitude alone, then count numbers inside it.
  say('## Dead recordings (pulse at start and end, none between)');
  say();
  const deadRows: (string | number)[][] = [];
  for (const d of al.filter((x) => labelOf(x) === 'dead')) {
    const [a, b] = pulseFreeStretch(d);
    const inside = (t: number) => t > a && t <= b;
    const ours = runOurs(d);
    const rd = runRd117(d);
    const oIn = ours.filter((e) => inside(e.t));
    const rIn = rd.filter((e) => inside(e.t));
    deadRows.push([
      d.name,
      `${a}–${b} s`,
      `${oIn.filter((e) => e.hr !== null).length} / ${oIn.length}`,
      `${oIn.filter((e) => e.spo2 !== null).length} / ${oIn.length}`,
      `${rIn.filter((e) => e.hr !== null).length} / ${rIn.length}`,
      `${rIn.filter((e) => e.spo2 !== null).length} / ${rIn.length}`,
    ]);
  }
  say(
    'The pulse-free stretch is the longest run of seconds whose band-passed IR amplitude is under 20 % of the early pulse (independent of the pipeline).',
  );
  say();
  say(table(['file', 'pulse-free stretch', 'ours HR values in it', 'ours SpO2 values', 'RD117 HR values', 'RD117 SpO2 values'], deadRows));
  say();
}

if (saturatedRows.length) {
  say('## Saturated recordings');
  say();
  say(table(['recording', 'ours: seconds with an HR', 'RD117: seconds with an HR'], saturatedRows));
  say();
}

// ---------------------------------------------------------------- Coverage on clean recordings
say('## Coverage on clean recordings (seconds after the first 10 s with an HR)');
say();
say(
  'For the phone-camera recordings, also over only the seconds whose 8-s window carries the heartbeat (periodogram peak within 10 % of the chest strap, as above): a camera that does not see the pulse has nothing to cover.',
);
say();
const covRows: (string | number)[][] = [];
for (const d of [...wt.filter((x) => !saturated(x)), ...bi, ...al.filter((x) => /^(good|superb)$/.test(labelOf(x)))]) {
  const est = runOurs(d).filter((e) => e.t > 10);
  const rd = runRd117(d, d.red, d.ir, d.red && d.ir ? 1 : countsGain((d.ir ?? d.red)!)).filter((e) => e.t > 10);
  const camera = d.rec.meta.format === 'welltory-ppg';
  const carrying = camera ? carryingFilter(d) : undefined;
  const estC = carrying ? est.filter((e) => carrying(e.t)) : [];
  const rdC = carrying ? rd.filter((e) => carrying(e.t)) : [];
  const share = (v: MethodOut[], f: (e: MethodOut) => boolean) => pct(v.filter(f).length / v.length, 0);
  covRows.push([
    d.name,
    share(est, (e) => e.hr !== null),
    d.red && d.ir ? share(est, (e) => e.spo2 !== null) : 'n/a',
    share(rd, (e) => e.hr !== null),
    carrying ? pct(estC.length / est.length, 0) : '',
    carrying ? share(estC, (e) => e.hr !== null) : '',
    carrying ? share(rdC, (e) => e.hr !== null) : '',
  ]);
}
say(
  table(
    ['recording', 'ours HR', 'ours SpO2', 'RD117 HR', 'camera: seconds carrying the heartbeat', 'ours HR over them', 'RD117 HR over them'],
    covRows,
  ),
);
say();
say(`Run time: ${((performance.now() - started) / 1000).toFixed(1)} s.`);
