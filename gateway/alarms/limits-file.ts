/**
 * The alarm tools' own command-line piece: `--limits FILE.json`, the
 * per-patient limits document the config downlink carries. Everything else
 * on the command line belongs to the shared recording arguments
 * (gateway/cli/args.ts), so it behaves exactly as for `analyze`.
 */
import { readFileSync } from 'node:fs';
import { resolveLimits } from '../../protocol/limits.ts';
import { InputError } from '../cli/args.ts';

/** Takes `--limits FILE` / `--limits=FILE` out of argv and leaves the rest in order. */
export function splitLimitsArg(argv: readonly string[], usage: string): { limitsFile?: string; rest: string[] } {
  const rest: string[] = [];
  let limitsFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg !== '--limits' && !arg.startsWith('--limits=')) {
      rest.push(arg);
      continue;
    }
    if (limitsFile !== undefined) throw new InputError(`--limits given twice; usage: ${usage}`);
    const value = arg === '--limits' ? argv[++i] : arg.slice('--limits='.length);
    if (value === undefined || value === '') throw new InputError(`--limits needs a value; usage: ${usage}`);
    limitsFile = value;
  }
  return limitsFile === undefined ? { rest } : { limitsFile, rest };
}

/** Reads and validates a limits document; an unreadable or invalid one is an InputError naming the field. */
export function loadLimitsFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not JSON (${(error as Error).message})`);
  }
  const resolved = resolveLimits(document);
  if (!resolved.ok) throw new InputError(`${path}: invalid limits: ${resolved.reason}`);
  return document;
}
