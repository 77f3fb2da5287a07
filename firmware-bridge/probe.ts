/**
 * Sensor check for a technician: `npx tsx firmware-bridge/probe.ts [--mode hardware|emulator|auto]
 * [--scenario file.json] [--recording file] [--seconds 10] [--rate 100]`. Prints the state changes and,
 * once a second, how many samples arrived, the red/IR DC and pulse size, LED currents and die temperature.
 */
import { parseArgs } from 'node:util';
import { openSensor, type SensorSample } from './index.ts';
import type { SampleRate } from './max30102/registers.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'auto' },
    scenario: { type: 'string' },
    recording: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '100' },
  },
});
const mode = values.mode as 'auto' | 'hardware' | 'emulator';
if (!['auto', 'hardware', 'emulator'].includes(mode)) {
  console.error(`--mode must be auto, hardware or emulator, not ${values.mode}`);
  process.exit(2);
}
const seconds = Number(values.seconds);
if (!(seconds > 0)) {
  console.error('--seconds must be a positive number');
  process.exit(2);
}

try {
  const sensor = await openSensor({
    mode,
    config: { sampleRate: Number(values.rate) as SampleRate },
    emulate: { scenarioFile: values.scenario, recordingFile: values.recording },
    log: (level, msg) => console.log(`  [${level}] ${msg}`),
  });
  console.log(`sensor: ${sensor.kind}, ${sensor.sampleRateHz} samples/s`);
  let second: SensorSample[] = [];
  sensor.onSamples((b) => second.push(...b));
  sensor.onState((s) => console.log(`  state ${s.state}${s.cause ? `: ${s.cause}` : ''}`));
  await sensor.start();
  for (let t = 1; t <= seconds; t++) {
    await new Promise((r) => setTimeout(r, 1000));
    const batch = second;
    second = [];
    const stat = (k: 'red' | 'ir') => {
      const v = batch.map((s) => s[k]).filter(Number.isFinite);
      if (v.length === 0) return '—';
      const dc = v.reduce((a, b) => a + b, 0) / v.length;
      return `DC ${Math.round(dc)} (${((dc / 0x3ffff) * 100).toFixed(0)} % FS), p-p ${Math.max(...v) - Math.min(...v)}`;
    };
    const st = sensor.state();
    console.log(
      `${String(t).padStart(3)} s  ${String(batch.length).padStart(4)} samples  red ${stat('red')}  IR ${stat('ir')}  ` +
        `LED ${st.redLedMa}/${st.irLedMa} mA  ${st.dieTempC?.toFixed(2) ?? '—'} °C  lost ${st.lostSamples}  ${st.state}`,
    );
  }
  await sensor.stop();
} catch (err) {
  console.error(`probe: ${(err as Error).message}`);
  process.exit(1);
}
