/**
 * Fits the quality model (gateway/signal/quality.ts SQI_MODEL) on the tuning
 * recordings only: Welltory tuning subjects and the unlabelled alsementsov
 * files, each clean and with every kind of injected corruption. Windows with
 * no corruption are class 1, windows at least half corrupted class 0; the
 * classes are weighted equally. Prints the weights to paste into SQI_MODEL.
 *
 *   npx tsx test/bench/lib/fit-sqi.ts --data ../shared/data
 */
import { parseArgs } from 'node:util';
import { analyzeRecording } from '../../../gateway/signal/index.ts';
import { SQI_FEATURES, sqiFeatureVector } from '../../../gateway/signal/quality.ts';
import { CORRUPTIONS, corrupt } from './corrupt.ts';
import { overlap, spansFor, tuningBases } from './splits.ts';

function collect(root: string): { x: number[][]; y: number[] } {
  const x: number[][] = [];
  const y: number[] = [];
  let seed = 0;
  for (const d of tuningBases(root)) {
    const fs = d.rec.rateHz;
    const spans = spansFor((d.ir ?? d.red)!.length / fs);
    const channels = [d.ir, d.red].filter((c): c is Float64Array => c !== undefined);
    for (const kind of ['none', ...CORRUPTIONS] as const) {
      const bad = kind === 'none' ? channels : corrupt(channels, fs, spans, kind, d.fullScale, 5000 + seed++);
      const ir = d.ir ? bad[0] : undefined;
      const red = d.red ? bad[d.ir ? 1 : 0] : undefined;
      analyzeRecording(
        { rateHz: fs, ir, red },
        {
          fullScale: d.fullScale,
          onFeatures: (t, f) => {
            if (t < 10 || f.pulseLost || f.clippedFraction > 0.01) return;
            const o = overlap(spans, t - 8, t);
            if (kind === 'none' ? o > 0 : o < 0.5) return;
            x.push(Array.from(sqiFeatureVector(f)));
            y.push(kind === 'none' ? 1 : 0);
          },
        },
      );
    }
  }
  return { x, y };
}

/**
 * Class-balanced, L2-regularised logistic regression by projected gradient
 * descent on standardised features; `signs` pins each weight's direction
 * (+1, −1) so that no feature can count for quality the wrong way round;
 * 0 leaves a feature out.
 */
export function fitLogistic(
  x: number[][],
  y: number[],
  signs: readonly number[],
  l2 = 1e-3,
  iterations = 4000,
): { bias: number; weights: number[] } {
  const m = x[0]!.length;
  const mu = new Array<number>(m).fill(0);
  const sd = new Array<number>(m).fill(0);
  for (const row of x) for (let j = 0; j < m; j++) mu[j]! += row[j]! / x.length;
  for (const row of x) for (let j = 0; j < m; j++) sd[j]! += (row[j]! - mu[j]!) ** 2 / x.length;
  for (let j = 0; j < m; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  const z = x.map((row) => row.map((v, j) => (v - mu[j]!) / sd[j]!));
  const pos = y.filter((v) => v === 1).length;
  const wPos = y.length / (2 * pos);
  const wNeg = y.length / (2 * (y.length - pos));
  let b = 0;
  const w = new Array<number>(m).fill(0);
  const rate = 0.5;
  for (let it = 0; it < iterations; it++) {
    let gb = 0;
    const gw = new Array<number>(m).fill(0);
    for (let i = 0; i < z.length; i++) {
      let s = b;
      for (let j = 0; j < m; j++) s += w[j]! * z[i]![j]!;
      const p = 1 / (1 + Math.exp(-s));
      const e = (p - y[i]!) * (y[i] === 1 ? wPos : wNeg);
      gb += e;
      for (let j = 0; j < m; j++) gw[j]! += e * z[i]![j]!;
    }
    b -= (rate * gb) / z.length;
    for (let j = 0; j < m; j++) {
      w[j]! -= rate * (gw[j]! / z.length + l2 * w[j]!);
      if (w[j]! * signs[j]! < 0 || signs[j] === 0) w[j] = 0;
    }
  }
  // Back to raw feature units.
  const weights = w.map((v, j) => v / sd[j]!);
  const bias = b - w.reduce((s, v, j) => s + (v * mu[j]!) / sd[j]!, 0);
  return { bias, weights };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { data: { type: 'string', default: '../shared/data' } } });
  const { x, y } = collect(values.data!);
  // Expected direction of each feature in SQI_FEATURES order. The two ratios to the trusted
  // amplitude are left to the hard motion gates: they depend on the index itself (the trusted
  // amplitude is learnt from good windows), a loop a one-shot fit cannot see.
  const model = fitLogistic(x, y, [1, 1, -1, 1, -1, 0, 0, -1, 1, -1, -1, -1], 0.01);
  console.log(`windows: ${y.filter((v) => v === 1).length} clean, ${y.filter((v) => v === 0).length} corrupted`);
  SQI_FEATURES.forEach((name, j) => {
    console.log(`${name.padEnd(22)} ${model.weights[j]!.toFixed(3)}`);
  });
  console.log(`bias: ${model.bias.toFixed(3)},\nweights: [${model.weights.map((v) => v.toFixed(3)).join(', ')}],`);
}
