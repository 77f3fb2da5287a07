import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseBidmc } from './bidmc.ts';
import { parseCsvRecording } from './csv.ts';
import { isAlsementsovName, parseAromring, parseHeaderlessRedIr, parseVranoLogs } from './headerless.ts';
import { parseJdesbonnet } from './jdesbonnet.ts';
import { parseOxiwearProto1, parseOxiwearProto2 } from './oxiwear.ts';
import { detectDelimiter, isNumericRow, normaliseHeaderCell, splitLines } from './text.ts';
import { type LoadOptions, type Recording, RecordingError } from './types.ts';
import { parseWelltory } from './welltory.ts';

/** Larger than any PPG log we know by two orders of magnitude; refuse rather than exhaust memory. */
const MAX_BYTES = 256 * 1024 * 1024;

function readText(path: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new RecordingError(`${path}: not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof RecordingError) throw err;
    throw new RecordingError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (size > MAX_BYTES) throw new RecordingError(`${path}: ${size} bytes is more than the ${MAX_BYTES}-byte limit for a recording`);
  const buf = readFileSync(path);
  if (buf.subarray(0, 8192).includes(0)) throw new RecordingError(`${path}: binary file, not a text recording`);
  return buf.toString('utf8');
}

/**
 * Loads any recording format we know, detected from the file name and content:
 * OxiWear proto1/proto2, alsementsov CSV_rawdata (header-less), Welltory PPG.csv (+ RR.txt beside it),
 * BIDMC bidmc_NN_Signals.csv, jdesbonnet .dat, aromring, vrano714 red.log/ir.log (either one, or their folder),
 * and the plain `time_ms,red,ir` CSV. A folder holding PPG.csv or red.log is loaded too.
 */
export function loadRecording(path: string, opts: LoadOptions = {}): Recording {
  if (existsSync(path) && statSync(path).isDirectory()) {
    for (const inner of ['PPG.csv', 'red.log']) if (existsSync(join(path, inner))) return loadRecording(join(path, inner), opts);
    throw new RecordingError(`${path}: a folder without PPG.csv or red.log; give a recording file`);
  }
  const base = basename(path);
  const lower = base.toLowerCase();
  if (lower === 'rr.txt') throw new RecordingError(`${path}: RR.txt holds RR intervals, not a PPG; load the PPG.csv beside it`);
  if (lower === 'red.log' || lower === 'ir.log') {
    const dir = dirname(path);
    for (const f of ['red.log', 'ir.log']) {
      if (!existsSync(join(dir, f))) throw new RecordingError(`${path}: ${f} is missing beside it; red.log and ir.log are read as a pair`);
    }
    return parseVranoLogs(readText(join(dir, 'red.log')), readText(join(dir, 'ir.log')), dir, opts);
  }
  const text = readText(path);
  const lines = splitLines(text);
  const first = lines.find((l) => l.trim() !== '')?.trim();
  if (first === undefined) throw new RecordingError(`${path}: empty file`);

  if (first.startsWith('#')) {
    const data = lines.find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
    if (data && data.trim().split(/\s+/).length === 7 && isNumericRow(data, /\s+/)) return parseJdesbonnet(text, path, opts);
  }
  if (first.startsWith('MAXM86161reg') || lines.slice(0, 30).some((l) => l.startsWith('timestamp,sampleNum'))) {
    return parseOxiwearProto1(text, path, opts);
  }
  if (first === '1,2,3,4,5,6') return parseOxiwearProto2(text, path, opts);
  const header = first.split(detectDelimiter(first)).map(normaliseHeaderCell);
  const is = (...names: string[]) => header.length === names.length && names.every((n, i) => header[i] === n);
  if (is('time', 'r', 'g', 'b')) {
    const rr = join(dirname(path), 'RR.txt');
    return parseWelltory(text, existsSync(rr) ? readText(rr) : undefined, path, opts);
  }
  if (header.includes('time [s]') && header.includes('pleth')) return parseBidmc(text, path, opts);
  if (is('sample', 'red', 'ir')) return parseAromring(text, path, opts);
  if (isNumericRow(first, detectDelimiter(first))) {
    if (!isAlsementsovName(path) && opts.rateHz === undefined) {
      throw new RecordingError(
        `${path}: header-less file of an unknown source; give the sample rate (rateHz) or add a header time_ms,red,ir`,
      );
    }
    return parseHeaderlessRedIr(text, path, opts);
  }
  try {
    return parseCsvRecording(text, { ...opts, source: path });
  } catch (err) {
    if (err instanceof RecordingError && /no red or ir column/.test(err.message)) {
      throw new RecordingError(`${path}: not a recording format we know (first line "${first.slice(0, 60)}")`);
    }
    throw err;
  }
}
