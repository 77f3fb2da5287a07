/**
 * npm run --silent analyze -- [--rate HZ] [--calibration NAME] FILE.csv
 *
 * stdout, JSON Lines: one line per estimate update
 *   {"t": s, "hr": bpm|null, "spo2": %|null, "pi": %|null, "sqi": 0..1}
 * then {"summary": {"hr": bpm|null, "spo2": %|null, "sqi": 0..1}} for the whole recording.
 * Unreadable input: exit code 2 and a one-line reason on stderr.
 */
import { analyzeRecording } from '../signal/index.ts';
import { loadRecordingArg, parseRecordingArgs, runCli } from './args.ts';

const USAGE = 'analyze [--rate HZ] [--calibration NAME] FILE.csv';

await runCli(() => {
  const args = parseRecordingArgs(process.argv.slice(2), USAGE);
  const rec = loadRecordingArg(args);
  const { estimates, summary } = analyzeRecording(rec, { calibration: args.calibration });
  const lines = estimates.map((e) => JSON.stringify({ t: e.t, hr: e.hr, spo2: e.spo2, pi: e.pi, sqi: e.sqi }));
  lines.push(JSON.stringify({ summary: { hr: summary.hr, spo2: summary.spo2, sqi: summary.sqi } }));
  process.stdout.write(`${lines.join('\n')}\n`);
});
