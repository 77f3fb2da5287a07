import { buildRecording } from './build.ts';
import { parseNumber, splitLines } from './text.ts';
import type { LoadOptions, Recording } from './types.ts';
import { RecordingError } from './types.ts';

/**
 * jdesbonnet PPG_Tools `.dat`: `#`-prefixed JSON header, then rows
 * `host_unix_time device_ticks sensor_id red ir red_hp ir_hp` with two sensors interleaved.
 * The FIFO words were logged unmasked (bits 23:18 are not data), and the stated sampling_rate
 * is not the real one, so timing comes from the device ticks, scaled by the host clock.
 */
export function parseJdesbonnet(text: string, name: string, opts: LoadOptions): Recording {
  const lines = splitLines(text);
  const headerText: string[] = [];
  const sensor = opts.sensorId ?? 0;
  const host: number[] = [];
  const ticks: number[] = [];
  const red: number[] = [];
  const ir: number[] = [];
  const redHp: number[] = [];
  const irHp: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      headerText.push(line.slice(1));
      continue;
    }
    const cells = line.split(/\s+/).map(parseNumber);
    if (cells.length !== 7 || cells.some((v) => v === undefined)) {
      throw new RecordingError(`${name}: line ${i + 1}: expected 7 numbers "host_time ticks sensor red ir red_hp ir_hp"`);
    }
    seen.add(cells[2]!);
    if (cells[2] !== sensor) continue;
    host.push(cells[0]! * 1000);
    ticks.push(cells[1]!);
    red.push(cells[3]!);
    ir.push(cells[4]!);
    redHp.push(cells[5]!);
    irHp.push(cells[6]!);
  }
  if (red.length === 0) {
    throw new RecordingError(`${name}: no samples from sensor ${sensor} (sensors present: ${[...seen].sort().join(', ') || 'none'})`);
  }
  let header: Record<string, unknown> | undefined;
  try {
    header = headerText.length ? (JSON.parse(headerText.join('\n')) as Record<string, unknown>) : undefined;
  } catch {
    header = undefined;
  }
  const timesMs = deviceTimesMs(ticks, host);
  const locations = header?.sensorLocations;
  return buildRecording({ red, ir, extra: { redHp, irHp }, timesMs, mask18: true, trimStartup: true }, opts, {
    format: 'jdesbonnet-dat',
    source: name,
    sensor: 'MAX30102',
    sensorId: sensor,
    pulseChannel: 'ir',
    ...(typeof header?.sampling_rate === 'number' ? { statedRateHz: header.sampling_rate } : {}),
    ...(Array.isArray(locations) && typeof locations[sensor] === 'string' ? { sensorLocation: locations[sensor] } : {}),
  });
}

/** Device ticks (unwrapped at 32 bits) scaled to ms by a least-squares fit against the host clock; host times if that fails. */
function deviceTimesMs(ticks: number[], hostMs: number[]): number[] {
  const n = ticks.length;
  const unwrapped: number[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && ticks[i]! + offset < unwrapped[i - 1]! - 2 ** 31) offset += 2 ** 32;
    unwrapped.push(ticks[i]! + offset);
  }
  if (n < 2) return hostMs;
  const t0 = unwrapped[0]!;
  const h0 = hostMs[0]!;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += unwrapped[i]! - t0;
    sy += hostMs[i]! - h0;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = unwrapped[i]! - t0 - mx;
    sxy += dx * (hostMs[i]! - h0 - my);
    sxx += dx * dx;
  }
  const msPerTick = sxx > 0 ? sxy / sxx : 0;
  if (!(msPerTick > 0)) return hostMs;
  return unwrapped.map((t) => (t - t0) * msPerTick);
}
