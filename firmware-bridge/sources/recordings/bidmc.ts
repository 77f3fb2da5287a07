import { buildRecording } from './build.ts';
import { normaliseHeaderCell, parseNumber, splitLines } from './text.ts';
import type { LoadOptions, Recording } from './types.ts';
import { RecordingError } from './types.ts';

/**
 * BIDMC PPG and Respiration Dataset `bidmc_NN_Signals.csv`: `Time [s], RESP, PLETH, V, AVR, II` at 125 Hz.
 * PLETH is the ICU monitor's processed photoplethysmogram (no separate red/IR): it goes to `ir` and to
 * `extra.PLETH`; the ECG leads and RESP go to `extra` under their own names.
 */
export function parseBidmc(text: string, name: string, opts: LoadOptions): Recording {
  const lines = splitLines(text);
  const rawHeader = (lines[0] ?? '').split(',').map((c) => c.trim());
  const header = rawHeader.map(normaliseHeaderCell);
  const t = header.indexOf('time [s]');
  const pleth = header.indexOf('pleth');
  if (t < 0 || pleth < 0) throw new RecordingError(`${name}: BIDMC signals file needs columns "Time [s]" and PLETH`);
  const cols = header.map(() => [] as number[]);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(',');
    for (let c = 0; c < header.length; c++) {
      const v = parseNumber(cells[c] ?? '');
      // PhysioNet exports leave a missing lead as "NaN" or empty; keep it as NaN, but the time and PLETH must be there.
      if (v === undefined && (c === t || c === pleth))
        throw new RecordingError(`${name}: line ${i + 1}, column ${rawHeader[c]}: not a number`);
      cols[c]!.push(v ?? Number.NaN);
    }
  }
  const times = cols[t]!;
  if (times.length < 2) throw new RecordingError(`${name}: fewer than two samples`);
  const stepMs = ((times[times.length - 1]! - times[0]!) * 1000) / (times.length - 1);
  const stated = 125;
  // The dataset is sampled at 125 Hz; times are printed rounded, so check the average step only.
  if (Math.abs(stepMs - 1000 / stated) > 0.01 * (1000 / stated)) {
    throw new RecordingError(`${name}: average sample step ${stepMs.toFixed(3)} ms does not match BIDMC's 125 Hz`);
  }
  const extra: Record<string, number[]> = {};
  rawHeader.forEach((h, c) => {
    if (c !== t) extra[h] = cols[c]!;
  });
  return buildRecording({ ir: cols[pleth]!, extra, nativeRateHz: stated }, opts, {
    format: 'bidmc-signals',
    source: name,
    sensor: 'ICU monitor PLETH',
    pulseChannel: 'ir',
    reference: header.includes('ii') ? { ecgChannel: 'II' } : {},
  });
}
