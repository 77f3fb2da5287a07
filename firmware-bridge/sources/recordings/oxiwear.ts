import { buildRecording } from './build.ts';
import { isNumericRow, normaliseHeaderCell, parseNumber, splitLines } from './text.ts';
import type { LoadOptions, Recording, RecordingReference } from './types.ts';
import { RecordingError } from './types.ts';

/**
 * OxiWear proto1: MAXM86161 evaluation-kit logs. A register-dump preamble, `start time`, then a header
 * `timestamp,sampleNum,...,LEDC1,LEDC2,LEDC3,ACCX,ACCY,ACCZ,...` (LEDC1 = IR, LEDC2 = red, LEDC3 = ambient,
 * timestamp in ms at about 64 Hz), then footer lines (`stop time`, `elapsed capture time`, ...).
 */
export function parseOxiwearProto1(text: string, name: string, opts: LoadOptions): Recording {
  const lines = splitLines(text);
  const h = lines.findIndex((l) => l.startsWith('timestamp,sampleNum'));
  if (h < 0) throw new RecordingError(`${name}: OxiWear proto1 log without its "timestamp,sampleNum,..." header`);
  const header = lines[h]!.split(',').map(normaliseHeaderCell);
  const col = (c: string) => {
    const at = header.indexOf(c);
    if (at < 0) throw new RecordingError(`${name}: OxiWear proto1 header lacks column ${c.toUpperCase()}`);
    return at;
  };
  const wanted = { time: col('timestamp'), ir: col('ledc1'), red: col('ledc2'), ambient: col('ledc3') };
  const acc = { accX: header.indexOf('accx'), accY: header.indexOf('accy'), accZ: header.indexOf('accz') };
  const cols = { time: [] as number[], ir: [] as number[], red: [] as number[], ambient: [] as number[] };
  const accCols: Record<string, number[]> = { accX: [], accY: [], accZ: [] };
  let end = lines.length;
  for (let i = h + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = line.split(',');
    if (parseNumber(cells[0] ?? '') === undefined) {
      end = i;
      break;
    }
    for (const [k, at] of Object.entries(wanted)) {
      const v = parseNumber(cells[at] ?? '');
      if (v === undefined) throw new RecordingError(`${name}: line ${i + 1}, column ${header[at]}: not a number`);
      cols[k as keyof typeof cols].push(v);
    }
    for (const [k, at] of Object.entries(acc)) accCols[k]!.push(at >= 0 ? (parseNumber(cells[at] ?? '') ?? Number.NaN) : Number.NaN);
  }
  // Footer: free text to the end; a data row after it means the file is not what we think it is.
  for (let i = end; i < lines.length; i++) {
    if (/^\d/.test(lines[i]!) && isNumericRow(lines[i]!.split(',').slice(0, 6).join(','))) {
      throw new RecordingError(`${name}: data row at line ${i + 1} after the footer started at line ${end + 1}`);
    }
  }
  const startLine = lines.slice(0, h).find((l) => l.startsWith('start time,'));
  const startTimeMs = startLine ? parseNumber(startLine.split(',')[1] ?? '') : undefined;
  const extra: Record<string, number[]> = { ambient: cols.ambient };
  for (const [k, v] of Object.entries(accCols)) if (v.some((x) => !Number.isNaN(x))) extra[k] = v;
  return buildRecording({ red: cols.red, ir: cols.ir, extra, timesMs: cols.time, trimStartup: true }, opts, {
    format: 'oxiwear-proto1',
    source: name,
    sensor: 'MAXM86161',
    pulseChannel: 'ir',
    ...(startTimeMs !== undefined ? { startTimeMs } : {}),
    ...referenceFromProto1Name(name),
  });
}

/** `1557-76-76.csv` → reference SpO2 76 %, HR 76 bpm (trailing `_`/`-` are the authors' duplicates). */
function referenceFromProto1Name(path: string): { reference?: RecordingReference } {
  const m = /(?:^|\/)\d{4}-(\d{2,3})-(\d{2,3})[-_]*\.csv$/.exec(path);
  return m ? { reference: { spo2: Number(m[1]), hrBpm: Number(m[2]) } } : {};
}

/**
 * OxiWear proto2: ear-worn prototype over BLE at 24.995 Hz, header `1,2,3,4,5,6`,
 * rows `ir,ambient,red`. File name `<date>-<time>-<SpO2>-<HR>[-notes].csv`, values or ranges (`9596` = 95–96).
 */
export function parseOxiwearProto2(text: string, name: string, opts: LoadOptions): Recording {
  const lines = splitLines(text);
  const cols = { ir: [] as number[], ambient: [] as number[], red: [] as number[] };
  let sawHeader = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (!sawHeader) {
      sawHeader = true;
      if (line === '1,2,3,4,5,6') continue;
    }
    const cells = line.split(',').map(parseNumber);
    if (cells.length < 3 || cells.slice(0, 3).some((v) => v === undefined)) {
      throw new RecordingError(`${name}: line ${i + 1}: expected "ir,ambient,red" numbers, got "${line.slice(0, 60)}"`);
    }
    cols.ir.push(cells[0]!);
    cols.ambient.push(cells[1]!);
    cols.red.push(cells[2]!);
  }
  if (cols.ir.length === 0) throw new RecordingError(`${name}: no samples`);
  return buildRecording({ red: cols.red, ir: cols.ir, extra: { ambient: cols.ambient }, nativeRateHz: 24.995, trimStartup: true }, opts, {
    format: 'oxiwear-proto2',
    source: name,
    sensor: 'OxiWear ear prototype',
    pulseChannel: 'ir',
    ...referenceFromProto2Name(name),
  });
}

function range(s: string): number | [number, number] {
  if (s.length === 4) {
    const lo = Number(s.slice(0, 2));
    const hi = Number(s.slice(2));
    return lo === hi ? lo : [Math.min(lo, hi), Math.max(lo, hi)];
  }
  return Number(s);
}

function referenceFromProto2Name(path: string): { reference?: RecordingReference } {
  const base = path
    .split('/')
    .pop()!
    .replace(/\.csv$/i, '');
  const parts = base.split('-');
  const [spo2, hr] = [parts[2], parts[3]];
  const reference: RecordingReference = {};
  if (spo2 && /^\d{2}(\d{2})?$/.test(spo2)) reference.spo2 = range(spo2);
  if (hr && /^\d{2,3}(\d{2})?$/.test(hr) && reference.spo2 !== undefined) reference.hrBpm = range(hr);
  const notes = parts.slice(reference.hrBpm !== undefined ? 4 : reference.spo2 !== undefined ? 3 : 2).join('-');
  if (notes) reference.label = notes;
  return Object.keys(reference).length > 0 ? { reference } : {};
}
