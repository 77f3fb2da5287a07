import { buildRecording } from './build.ts';
import { normaliseHeaderCell, parseNumber, splitLines } from './text.ts';
import type { LoadOptions, Recording, RecordingReference } from './types.ts';
import { RecordingError } from './types.ts';

/**
 * Welltory camera PPG: `time,R,G,B` (ms, frame means, irregular 25–30 frames/s), pulse in R.
 * R goes to `red` (there is no IR); `rrText` is the Polar H10 `RR.txt` beside it, when present.
 */
export function parseWelltory(text: string, rrText: string | undefined, name: string, opts: LoadOptions): Recording {
  const lines = splitLines(text);
  const header = (lines[0] ?? '').split(',').map(normaliseHeaderCell);
  const at = { time: header.indexOf('time'), r: header.indexOf('r'), g: header.indexOf('g'), b: header.indexOf('b') };
  if (at.time < 0 || at.r < 0) throw new RecordingError(`${name}: Welltory PPG.csv needs columns time and R`);
  const cols = { time: [] as number[], r: [] as number[], g: [] as number[], b: [] as number[] };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(',');
    for (const [k, idx] of Object.entries(at)) {
      if (idx < 0) continue;
      const v = parseNumber(cells[idx] ?? '');
      if (v === undefined) throw new RecordingError(`${name}: line ${i + 1}, column ${header[idx]}: not a number`);
      cols[k as keyof typeof cols].push(v);
    }
  }
  const extra: Record<string, number[]> = {};
  if (at.g >= 0) extra.green = cols.g;
  if (at.b >= 0) extra.blue = cols.b;
  const reference: RecordingReference = {};
  if (rrText !== undefined) {
    const rr = parseRr(rrText, name.replace(/PPG\.csv$/i, 'RR.txt'));
    reference.rrMs = rr;
    reference.hrBpm = Math.round((60000 / (rr.reduce((a, b) => a + b, 0) / rr.length)) * 10) / 10;
  }
  return buildRecording({ red: cols.r, extra, timesMs: cols.time }, opts, {
    format: 'welltory-ppg',
    source: name,
    sensor: 'smartphone camera',
    pulseChannel: 'red',
    ...(Object.keys(reference).length > 0 ? { reference } : {}),
  });
}

/** Polar H10 RR intervals in ms, whitespace separated. */
export function parseRr(text: string, name: string): number[] {
  const rr: number[] = [];
  for (const cell of text.split(/\s+/)) {
    if (cell === '') continue;
    const v = parseNumber(cell);
    if (v === undefined || v < 200 || v > 3000)
      throw new RecordingError(`${name}: "${cell.slice(0, 20)}" is not an RR interval in ms (200–3000)`);
    rr.push(v);
  }
  if (rr.length === 0) throw new RecordingError(`${name}: no RR intervals`);
  return rr;
}
