/**
 * npm run --silent alarms -- [--rate HZ] [--calibration NAME] [--limits FILE.json] FILE.csv
 *
 * Runs FILE.csv through the gateway's signal pipeline and alarm engine in
 * emulated time. FILE.csv, --rate and --calibration behave exactly as for
 * `analyze`; --limits takes the per-patient limits document the config
 * downlink carries (protocol/limits.ts), the documented defaults without it.
 *
 * stdout, JSON Lines: one line per alarm event
 *   {"t": s, "event": "raised"|"escalated"|"cleared", "id": rule, "kind": "physiological"|"technical", "priority": "high"|"medium"|"low"}
 * then {"summary": {"raised": count}}.
 * Unreadable input (recording or limits): exit code 2 and a one-line reason on stderr.
 */
import { loadLimitsFile, splitLimitsArg } from '../alarms/limits-file.ts';
import { replayRecording } from '../alarms/replay.ts';
import { loadRecordingArg, parseRecordingArgs, runCli } from './args.ts';

const USAGE = 'alarms [--rate HZ] [--calibration NAME] [--limits FILE.json] FILE.csv';
/** The events this command reports; acknowledged and paused need a person, and there is none here. */
const REPORTED = new Set(['raised', 'escalated', 'cleared']);

await runCli(() => {
  const { limitsFile, rest } = splitLimitsArg(process.argv.slice(2), USAGE);
  const args = parseRecordingArgs(rest, USAGE);
  const limits = limitsFile === undefined ? {} : loadLimitsFile(limitsFile);
  const recording = loadRecordingArg(args);
  const { events } = replayRecording(recording, { calibration: args.calibration, limits });
  const lines: string[] = [];
  let raised = 0;
  for (const e of events) {
    if (!REPORTED.has(e.event)) continue;
    if (e.event === 'raised') raised++;
    lines.push(JSON.stringify({ t: e.mono / 1000, event: e.event, id: e.rule, kind: e.kind, priority: e.priority }));
  }
  lines.push(JSON.stringify({ summary: { raised } }));
  process.stdout.write(`${lines.join('\n')}\n`);
});
