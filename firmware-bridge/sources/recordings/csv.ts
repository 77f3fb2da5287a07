import { buildRecording } from './build.ts';
import { detectDelimiter, isNumericRow, normaliseHeaderCell, parseNumber, splitLines } from './text.ts';
import { type LoadOptions, type Recording, RecordingError } from './types.ts';

export interface CsvOptions extends LoadOptions {
  /** Name used in error messages and `meta.source`. */
  source?: string;
  /** Values are raw MAX30102 FIFO words: keep bits 17:0. */
  mask18?: boolean;
}

const WANTED = ['time_ms', 'red', 'ir'] as const;

/**
 * The plain recording format (and the analyze CLI's input): a header row naming columns among
 * `time_ms`, `red`, `ir` in any order (case-insensitive; other columns ignored), at least one of red/ir.
 * Blank lines and `#` comment lines are skipped. Without `time_ms` the rate comes from `opts.rateHz`;
 * with it, irregular timing is resampled to `opts.rateHz` or the median rate.
 */
export function parseCsvRecording(text: string, opts: CsvOptions = {}): Recording {
  const where = opts.source ?? 'csv';
  const lines = splitLines(text);
  let h = 0;
  while (h < lines.length && (lines[h]!.trim() === '' || lines[h]!.trimStart().startsWith('#'))) h++;
  if (h >= lines.length) throw new RecordingError(`${where}: empty file`);
  const headerLine = lines[h]!;
  const delimiter = detectDelimiter(headerLine);
  if (isNumericRow(headerLine, delimiter)) {
    throw new RecordingError(`${where}: line ${h + 1} is data, not a header; the first row must name the columns (time_ms, red, ir)`);
  }
  const header = headerLine.split(delimiter).map(normaliseHeaderCell);
  const index: Partial<Record<(typeof WANTED)[number], number>> = {};
  for (const name of WANTED) {
    const at = header.indexOf(name);
    if (at >= 0 && header.indexOf(name, at + 1) >= 0) throw new RecordingError(`${where}: column ${name} appears twice in the header`);
    if (at >= 0) index[name] = at;
  }
  if (index.red === undefined && index.ir === undefined) {
    throw new RecordingError(`${where}: no red or ir column in header "${headerLine.trim()}" (expected columns among time_ms, red, ir)`);
  }
  const cols: Record<string, number[]> = {};
  const used = WANTED.filter((c) => index[c] !== undefined);
  for (const c of used) cols[c] = [];
  for (let i = h + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const cells = line.split(delimiter);
    for (const c of used) {
      const cell = cells[index[c]!];
      const v = cell === undefined ? undefined : parseNumber(cell);
      if (v === undefined) {
        const shown = cell === undefined ? 'missing' : cell.trim() === '' ? 'empty' : `"${cell.trim().slice(0, 40)}" is not a number`;
        throw new RecordingError(`${where}: line ${i + 1}, column ${c}: ${shown}`);
      }
      cols[c]!.push(v);
    }
  }
  const first = used[0]!;
  if (cols[first]!.length === 0) throw new RecordingError(`${where}: header but no data rows`);
  return buildRecording({ red: cols.red, ir: cols.ir, timesMs: cols.time_ms, mask18: opts.mask18 }, opts, {
    format: 'csv',
    source: opts.source,
    pulseChannel: cols.ir ? 'ir' : 'red',
  });
}
