import { RecordingError } from './types.ts';

/** Splits on LF, CRLF and the CR CR LF some Windows loggers write; keeps line numbers 1-based via index + 1. */
export function splitLines(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return body.split(/\r*\n|\r/);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses one numeric cell; `undefined` when it is not a plain decimal number (empty cells included). */
export function parseNumber(cell: string): number | undefined {
  const s = cell.trim();
  if (!NUMBER.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

export function isNumericRow(line: string, delimiter: RegExp | string = ','): boolean {
  const cells = line.split(delimiter).filter((c) => c.trim() !== '');
  return cells.length > 0 && cells.every((c) => parseNumber(c) !== undefined);
}

/** Picks the delimiter of a header or data line: comma unless the line only has tabs, semicolons or spaces. */
export function detectDelimiter(line: string): RegExp | string {
  if (line.includes(',')) return ',';
  if (line.includes('\t')) return '\t';
  if (line.includes(';')) return ';';
  if (/\S\s+\S/.test(line.trim())) return /\s+/;
  return ',';
}

export function normaliseHeaderCell(cell: string): string {
  return cell
    .trim()
    .replace(/^["']|["']$/g, '')
    .trim()
    .toLowerCase();
}

/** Median of the positive steps between successive times (ms); NaN when there are none. */
export function medianStepMs(times: ArrayLike<number>): number {
  const steps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const d = times[i]! - times[i - 1]!;
    if (d > 0) steps.push(d);
  }
  if (steps.length === 0) return Number.NaN;
  steps.sort((a, b) => a - b);
  const mid = steps.length >> 1;
  return steps.length % 2 ? steps[mid]! : (steps[mid - 1]! + steps[mid]!) / 2;
}

/** Rounds a measured rate: whole Hz from 20 Hz up (64.35 → 64), tenths below (so 12.5 stays 12.5). */
export function roundRate(rateHz: number): number {
  return rateHz >= 20 ? Math.round(rateHz) : Math.round(rateHz * 10) / 10;
}

export function checkRate(rateHz: number, where: string): number {
  if (!Number.isFinite(rateHz) || rateHz <= 0 || rateHz > 100_000) {
    throw new RecordingError(`${where}: sample rate must be a positive number of Hz up to 100000, got ${rateHz}`);
  }
  return rateHz;
}

/**
 * Finds how many leading samples are sensor start-up (LED/ADC settling) rather than signal:
 * the last of the first `maxTrim` samples that sits more than `tolerance` away from the median
 * of the following second of signal. Raw MAX30102/MAXM86161 logs often start with one to three.
 */
export function startupSamples(channels: ArrayLike<number>[], maxTrim = 4, tolerance = 0.05, window = 25): number {
  let trim = 0;
  for (const ch of channels) {
    if (ch.length < maxTrim + window) continue;
    const ref: number[] = [];
    for (let i = maxTrim; i < maxTrim + window; i++) ref.push(ch[i]!);
    ref.sort((a, b) => a - b);
    const median = ref[ref.length >> 1]!;
    if (median === 0) continue;
    for (let i = 0; i < maxTrim; i++) {
      if (Math.abs(ch[i]! - median) / Math.abs(median) > tolerance) trim = Math.max(trim, i + 1);
    }
  }
  return trim;
}

/** Column accumulator: growable number arrays, frozen into Float64Array at the end. */
export function toFloat64(values: number[], from = 0): Float64Array {
  return Float64Array.from(from > 0 ? values.slice(from) : values);
}
