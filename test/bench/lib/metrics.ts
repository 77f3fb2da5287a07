/** Small statistics for the benchmarks. */

/** Area under the ROC curve: probability that a random positive scores above a random negative (ties count half). */
export function auc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return Number.NaN;
  const all = [...positives.map((v) => [v, 1] as const), ...negatives.map((v) => [v, 0] as const)].sort((a, b) => a[0] - b[0]);
  // Mann–Whitney U with mid-ranks for ties.
  let rankSumPos = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]![0] === all[i]![0]) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]![1] === 1) rankSumPos += midRank;
    i = j;
  }
  const np = positives.length;
  return (rankSumPos - (np * (np + 1)) / 2) / (np * negatives.length);
}

export const mean = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN);
export const rms = (v: readonly number[]) => Math.sqrt(mean(v.map((x) => x * x)));

export function percentile(v: readonly number[], p: number): number {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round((p / 100) * (s.length - 1))))]!;
}

export const fmt = (v: number | null | undefined, digits = 2) =>
  v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits);
export const pct = (v: number, digits = 1) => (Number.isNaN(v) ? '–' : `${(100 * v).toFixed(digits)} %`);

/** Markdown table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
