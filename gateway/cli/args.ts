/**
 * Shared command line of the recording tools (`analyze`, `alarms`):
 *   [--rate HZ] [--calibration NAME] FILE.csv
 * and the one failure convention they promise: unreadable input exits with
 * code 2 and a one-line reason on stderr.
 */
import { readFileSync } from 'node:fs';
import { parseCsvRecording, type Recording, RecordingError } from '../../firmware-bridge/sources/recordings.ts';
import { CALIBRATIONS, DEFAULT_CALIBRATION } from '../signal/calibrations.ts';

export interface RecordingArgs {
  /** Sample rate for files without `time_ms` (or the resampling target with it). */
  rateHz?: number;
  calibration: string;
  file: string;
}

/** Bad command line or unreadable input: the process exits with code 2. */
export class InputError extends Error {
  override name = 'InputError';
}

export const EXIT_UNREADABLE = 2;

export function parseRecordingArgs(argv: readonly string[], usage: string): RecordingArgs {
  let rateHz: number | undefined;
  let calibration = DEFAULT_CALIBRATION;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new InputError(`${name} needs a value; usage: ${usage}`);
      return v;
    };
    if (name === '--rate') {
      const text = value();
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v) || v <= 0) throw new InputError(`--rate "${text}" is not a positive number of Hz`);
      rateHz = v;
    } else if (name === '--calibration') {
      calibration = value();
      if (!Object.hasOwn(CALIBRATIONS, calibration)) {
        throw new InputError(`unknown calibration "${calibration}" (known: ${Object.keys(CALIBRATIONS).join(', ')})`);
      }
    } else if (name === '--') {
    } else if (name.startsWith('--')) {
      throw new InputError(`unknown option ${name}; usage: ${usage}`);
    } else if (file === undefined) {
      file = arg;
    } else {
      throw new InputError(`one FILE only, got "${file}" and "${arg}"; usage: ${usage}`);
    }
  }
  if (file === undefined) throw new InputError(`no FILE given; usage: ${usage}`);
  return { rateHz, calibration, file };
}

/** Read FILE.csv (header with time_ms, red, ir in any order) into a uniform-rate recording. */
export function loadRecordingArg(args: RecordingArgs): Recording {
  let text: string;
  try {
    text = readFileSync(args.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${args.file}: cannot read (${code ?? (err as Error).message})`);
  }
  if (text.includes('\u0000')) throw new InputError(`${args.file}: binary file, not a CSV recording`);
  const rec = parseCsvRecording(text, { rateHz: args.rateHz, source: args.file });
  if (!(rec.rateHz >= 10 && rec.rateHz <= 4000)) throw new InputError(`${args.file}: sample rate ${rec.rateHz} Hz is outside 10..4000 Hz`);
  return rec;
}

/**
 * Run a CLI body; input errors (ours or the parser's) become exit code 2 and
 * one line on stderr, anything else is a bug and exits 1 with its stack.
 */
export async function runCli(body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof InputError || err instanceof RecordingError) {
      process.stderr.write(`${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exitCode = EXIT_UNREADABLE;
      return;
    }
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
