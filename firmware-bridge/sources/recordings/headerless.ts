import { buildRecording } from './build.ts';
import { detectDelimiter, parseNumber, splitLines } from './text.ts';
import type { LoadOptions, Recording, RecordingReference } from './types.ts';
import { RecordingError } from './types.ts';

/** alsementsov CSV_rawdata names: `dd-mm-yyyy_hh-mm[_label].csv` (one is `..._ambicsv`, an ambient run). */
const ALSEMENTSOV_NAME = /(?:^|\/)\d{2}-\d{2}-\d{4}_\d{2}-\d{2}(?:_([^/]*?))?(?:\.csv)?$/;

export function isAlsementsovName(path: string): boolean {
  return ALSEMENTSOV_NAME.test(path);
}

/**
 * Header-less `red,ir[,spo2_device]` rows (alsementsov CSV_rawdata: MAX30102 on an ESP32 at 25 samples/s;
 * October files carry the device's own SpO2, -999 = invalid; November files have blank lines between rows).
 * Files not named like that dataset need `opts.rateHz`.
 */
export function parseHeaderlessRedIr(text: string, name: string, opts: LoadOptions): Recording {
  const lines = splitLines(text);
  const red: number[] = [];
  const ir: number[] = [];
  const spo2: number[] = [];
  let width = 0;
  let delimiter: RegExp | string = ',';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (width === 0) delimiter = detectDelimiter(line);
    const cells = line.split(delimiter).map(parseNumber);
    if (width === 0) {
      width = cells.length;
      if (width < 2 || width > 3)
        throw new RecordingError(`${name}: header-less rows must be "red,ir" or "red,ir,spo2", line ${i + 1} has ${width} cells`);
    }
    if (cells.length !== width || cells.some((v) => v === undefined)) {
      throw new RecordingError(`${name}: line ${i + 1}: expected ${width} numbers, got "${line.slice(0, 60)}"`);
    }
    red.push(cells[0]!);
    ir.push(cells[1]!);
    if (width === 3) spo2.push(cells[2] === -999 ? Number.NaN : cells[2]!);
  }
  if (red.length === 0) throw new RecordingError(`${name}: no samples`);
  const m = ALSEMENTSOV_NAME.exec(name);
  const reference: RecordingReference = {};
  const label = m?.[1];
  if (label) reference.label = label === 'ambicsv' ? 'ambient' : label;
  const hr = label ? /HR(\d{2,3})/.exec(label) : null;
  if (hr) reference.hrBpm = Number(hr[1]);
  const sp = label ? /spo(\d{2,3})/i.exec(label) : null;
  if (sp) reference.spo2 = Number(sp[1]);
  return buildRecording(
    {
      red,
      ir,
      extra: width === 3 ? { spo2Device: spo2 } : undefined,
      nativeRateHz: m ? 25 : undefined,
      mask18: true,
      trimStartup: true,
    },
    opts,
    {
      format: m ? 'alsementsov-csv' : 'headerless-red-ir',
      source: name,
      sensor: 'MAX30102',
      pulseChannel: 'ir',
      ...(Object.keys(reference).length > 0 ? { reference } : {}),
    },
  );
}

/** vrano714 `red.log` + `ir.log`: one 18-bit integer per line each, MAX30102 on a Raspberry Pi at 25 samples/s. */
export function parseVranoLogs(redText: string, irText: string, name: string, opts: LoadOptions): Recording {
  const read = (text: string, which: string) => {
    const out: number[] = [];
    const lines = splitLines(text);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      const v = parseNumber(line);
      if (v === undefined) throw new RecordingError(`${name}: ${which}.log line ${i + 1}: "${line.slice(0, 40)}" is not a number`);
      out.push(v);
    }
    return out;
  };
  const red = read(redText, 'red');
  const ir = read(irText, 'ir');
  const n = Math.min(red.length, ir.length);
  if (n === 0) throw new RecordingError(`${name}: red.log or ir.log holds no samples`);
  const meta = { format: 'vrano-log', source: name, sensor: 'MAX30102', pulseChannel: 'ir' as const };
  // A logger stopped mid-write leaves one file a sample longer; keep the common part.
  if (red.length !== ir.length) Object.assign(meta, { truncatedTo: n });
  return buildRecording({ red: red.slice(0, n), ir: ir.slice(0, n), nativeRateHz: 25, mask18: true, trimStartup: true }, opts, meta);
}

/** aromring `ExpectedGoodQualitySignals.csv`: `Sample,RED,IR`, a sample index rather than a time, 25 samples/s. */
export function parseAromring(text: string, name: string, opts: LoadOptions): Recording {
  const lines = splitLines(text);
  const red: number[] = [];
  const ir: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(',').map(parseNumber);
    if (cells.length < 3 || cells.some((v) => v === undefined))
      throw new RecordingError(`${name}: line ${i + 1}: expected "sample,red,ir" numbers`);
    red.push(cells[1]!);
    ir.push(cells[2]!);
  }
  return buildRecording({ red, ir, nativeRateHz: 25, mask18: true, trimStartup: true }, opts, {
    format: 'aromring-csv',
    source: name,
    sensor: 'MAX30102',
    pulseChannel: 'ir',
  });
}
