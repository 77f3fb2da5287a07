/**
 * The honest split and the corruption layout shared by the accuracy
 * benchmark and the quality-model fit: which recordings may be tuned on, and
 * where the corrupted spans fall.
 */
import type { Span } from './corrupt.ts';
import { alsementsov, type Dataset, welltory } from './datasets.ts';

/** Welltory subjects the pipeline was tuned on; the others are only reported. */
export const WELLTORY_TUNING = new Set(['subject_01', 'subject_04', 'subject_07', 'subject_10', 'subject_13', 'subject_16', 'subject_19']);
/** alsementsov files without a quality label, used for tuning only. */
export const ALSEMENTSOV_TUNING =
  /^(15-11-2019_17-45|16-10-2019_14-48|16-10-2019_11-55_spo97|18-10-2019_08-55_HR109|19-11-2019_11-12_pause)/;

export function tuningBases(root: string): Dataset[] {
  return [
    ...welltory(root).filter((d) => WELLTORY_TUNING.has(d.name)),
    ...alsementsov(root).filter((d) => ALSEMENTSOV_TUNING.test(d.name)),
  ];
}

/** 10 s spans from 15 s every 25 s, clear of the last 2 s. */
export function spansFor(seconds: number): Span[] {
  const spans: Span[] = [];
  for (let from = 15; from + 10 <= seconds - 2; from += 25) spans.push({ from, to: from + 10 });
  return spans;
}

/** Share of [a, b] that the spans cover. */
export function overlap(spans: readonly Span[], a: number, b: number): number {
  return spans.reduce((s, sp) => s + Math.max(0, Math.min(b, sp.to) - Math.max(a, sp.from)), 0) / (b - a);
}
