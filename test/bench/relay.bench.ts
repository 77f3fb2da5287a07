/**
 * npm run bench:relay -- --gateways 10000 --seconds 300
 *
 * Starts InfluxDB (Debian's influxd, temp folder, loopback), a relay writing
 * its history there, and the fleet simulator; enrolls and connects every
 * gateway; holds the fleet at one vitals message per gateway per period for
 * --seconds; then raises the rate step by step (--ramp) until the relay stops
 * keeping up. Prints sustained messages/s, publish → stored latency (p50/p99,
 * "stored" = InfluxDB acknowledged the write), messages lost (acknowledged by
 * the relay with PUBACK but not in InfluxDB at the end), relay RSS and CPU.
 *
 * Options: --gateways N (1000) --seconds S (60) --workers W (2)
 *          --period-ms P (1000) --ramp 2,4 (rate multipliers, "" for none)
 *          --step-seconds S (20) --batch N (drain batch, spool rows; 1000)
 *          --connect-rate N (connections/s, 500) --json FILE
 *          --data-dir DIR (parent of the relay's and InfluxDB's temp folders;
 *            /dev/shm takes the disk's fsync cost out, to find the CPU limit)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startRelay } from '../../cloud-relay/relay.ts';
import type { HistoryStore, ReadingQuery, StoredAlarmEvent, StoredReading } from '../../cloud-relay/store/history-store.ts';
import { InfluxHistoryStore } from '../../cloud-relay/store/influx-store.ts';
import { type Fleet, startFleet } from '../../scripts/fleet/fleet.ts';
import { LatencyHistogram } from '../../scripts/fleet/histogram.ts';
import { startInfluxDb } from '../helpers/influxdb.ts';

const { values: args } = parseArgs({
  options: {
    gateways: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    workers: { type: 'string', default: '2' },
    'period-ms': { type: 'string', default: '1000' },
    ramp: { type: 'string', default: '2,4' },
    'step-seconds': { type: 'string', default: '20' },
    batch: { type: 'string', default: '1000' },
    'connect-rate': { type: 'string', default: '500' },
    json: { type: 'string' },
    'data-dir': { type: 'string' },
  },
  allowPositionals: false,
});

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
}

const GATEWAYS = Math.round(positive('gateways', args.gateways));
const SECONDS = positive('seconds', args.seconds);
const WORKERS = Math.round(positive('workers', args.workers));
const PERIOD_MS = positive('period-ms', args['period-ms']);
const RAMP = (args.ramp ?? '')
  .split(',')
  .filter((s) => s.trim() !== '')
  .map((s) => positive('ramp', s));
const STEP_SECONDS = positive('step-seconds', args['step-seconds']);
const BATCH = Math.round(positive('batch', args.batch));
const CONNECT_RATE = positive('connect-rate', args['connect-rate']);
const WARMUP_MS = 5000;

/** Wraps the real store: counts readings InfluxDB acknowledged and how long after publish that was. */
class MeasuredStore implements HistoryStore {
  stored = 0;
  latency = new LatencyHistogram();

  constructor(private readonly inner: HistoryStore) {}

  async writeReadings(readings: readonly StoredReading[]): Promise<void> {
    await this.inner.writeReadings(readings);
    const now = Date.now();
    // The simulator stamps each reading with its publish instant on the same clock.
    for (const r of readings) this.latency.record(now - r.t);
    this.stored += readings.length;
  }
  writeAlarmEvents(events: readonly StoredAlarmEvent[]): Promise<void> {
    return this.inner.writeAlarmEvents(events);
  }
  queryReadings(query: ReadingQuery): Promise<StoredReading[]> {
    return this.inner.queryReadings(query);
  }
  queryAlarmEvents(query: ReadingQuery): Promise<StoredAlarmEvent[]> {
    return this.inner.queryAlarmEvents(query);
  }
  ping(): Promise<boolean> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** utime+stime in ms and RSS in MiB of another process, from /proc (Linux). */
function procUsage(pid: number | undefined): { cpuMs: number; rssMiB: number } {
  if (!pid) return { cpuMs: 0, rssMiB: 0 };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (proc(5) fields 14 and 15)
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { cpuMs: ticks * 10, rssMiB: rssKb / 1024 };
  } catch {
    return { cpuMs: 0, rssMiB: 0 };
  }
}

interface WindowResult {
  label: string;
  offeredPerS: number;
  ackedPerS: number;
  storedPerS: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number;
  ackP99Ms: number | null;
  spoolDepthEnd: number;
  relayCpuPct: number;
  relayRssMiB: number;
  influxCpuPct: number;
  influxRssMiB: number;
  fleetCpuPct: number;
  keptUp: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const parentDir = args['data-dir'] ?? tmpdir();
  const dataDir = mkdtempSync(join(parentDir, 'vigil-bench-relay-'));
  const influx = await startInfluxDb({ databases: ['vigil_bench'], parentDir });
  const store = new MeasuredStore(new InfluxHistoryStore({ url: influx.url, database: 'vigil_bench' }));
  const relay = await startRelay({
    dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    httpPort: 0,
    store,
    log: pino({ level: process.env.VIGIL_BENCH_LOG ?? 'error' }),
    dashboardDir: false,
    // Every simulated gateway connects from 127.0.0.1; the per-address limit is for real networks.
    limits: { connectionsPerWindow: 0 },
    drain: { batchSize: BATCH },
  });
  console.log(
    `relay bench: ${GATEWAYS} gateways in ${WORKERS} workers, 1 message / ${PERIOD_MS} ms each, ${SECONDS} s sustained, drain batch ${BATCH}`,
  );
  console.log(`InfluxDB ${influx.url} (1.6.7, v1 /write), relay ${relay.mqttUrl}, data in ${parentDir}`);

  let fleet: Fleet | null = null;
  const results: WindowResult[] = [];
  let exitCode = 0;
  try {
    const enrollStart = Date.now();
    fleet = await startFleet({
      httpUrl: relay.httpUrl,
      mqttUrl: relay.mqttUrl,
      adminToken: relay.adminToken,
      gateways: GATEWAYS,
      workers: WORKERS,
      periodMs: PERIOD_MS,
      connectsPerSecond: CONNECT_RATE,
      onProgress: (event) => console.log(`  ${event} (${((Date.now() - enrollStart) / 1000).toFixed(1)} s)`),
    });
    const f = fleet;
    f.publish();
    await sleep(WARMUP_MS);

    const measure = async (label: string, periodMs: number, seconds: number): Promise<WindowResult> => {
      f.takeAckLatency();
      store.latency.reset();
      const t0 = Date.now();
      const cpu0 = process.cpuUsage();
      const influx0 = procUsage(influx.pid());
      const fleet0 = f.pids.map((pid) => procUsage(pid).cpuMs);
      const acked0 = f.totals().acked;
      const stored0 = store.stored;
      let rssMax = 0;
      let influxRssMax = 0;
      const end = t0 + seconds * 1000;
      while (Date.now() < end) {
        await sleep(Math.min(10_000, end - Date.now()));
        rssMax = Math.max(rssMax, process.memoryUsage().rss / 2 ** 20);
        influxRssMax = Math.max(influxRssMax, procUsage(influx.pid()).rssMiB);
        const elapsed = (Date.now() - t0) / 1000;
        console.log(
          `    ${label} ${elapsed.toFixed(0)} s: acked ${((f.totals().acked - acked0) / elapsed).toFixed(0)}/s, ` +
            `stored ${((store.stored - stored0) / elapsed).toFixed(0)}/s, spool ${relay.parts.spool.depth()}, ` +
            `p99 so far ${store.latency.quantile(0.99)} ms`,
        );
      }
      const wallMs = Date.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const fleetCpuMs = f.pids.reduce((sum, pid, i) => sum + procUsage(pid).cpuMs - (fleet0[i] ?? 0), 0);
      const ack = f.takeAckLatency();
      const offeredPerS = (GATEWAYS * 1000) / periodMs;
      const storedPerS = ((store.stored - stored0) * 1000) / wallMs;
      const p99 = store.latency.quantile(0.99);
      const spoolDepthEnd = relay.parts.spool.depth();
      return {
        label,
        offeredPerS: round(offeredPerS),
        ackedPerS: round(((f.totals().acked - acked0) * 1000) / wallMs),
        storedPerS: round(storedPerS),
        p50Ms: store.latency.quantile(0.5),
        p99Ms: p99,
        maxMs: store.latency.max,
        ackP99Ms: ack.quantile(0.99),
        spoolDepthEnd,
        relayCpuPct: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
        relayRssMiB: round(rssMax),
        influxCpuPct: round(((procUsage(influx.pid()).cpuMs - influx0.cpuMs) / wallMs) * 100),
        influxRssMiB: round(influxRssMax),
        fleetCpuPct: round((fleetCpuMs / wallMs) * 100),
        // Kept up: stored what was offered (within 3 %), p99 within a second, no backlog building.
        keptUp: storedPerS >= 0.97 * offeredPerS && p99 !== null && p99 <= 1000 && spoolDepthEnd < offeredPerS,
      };
    };

    results.push(await measure(`sustained ${GATEWAYS} msg/s`, PERIOD_MS, SECONDS));
    for (const factor of RAMP) {
      const periodMs = PERIOD_MS / factor;
      f.setPeriod(periodMs);
      await sleep(WARMUP_MS);
      const step = await measure(`ramp x${factor}`, periodMs, STEP_SECONDS);
      results.push(step);
      if (!step.keptUp) break;
    }

    console.log('  stopping the fleet and draining the spool');
    const totals = await f.stop(60_000);
    fleet = null;
    const drainDeadline = Date.now() + 300_000;
    while (relay.parts.spool.depth() > 0 && Date.now() < drainDeadline) await sleep(200);
    const spoolLeft = relay.parts.spool.depth();
    await relay.close();
    const counted = await influx.query('SELECT count("sqi") FROM "reading"', 'vigil_bench');
    const inInflux = Number(counted.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
    const lost = Math.max(0, totals.acked - inInflux);

    console.log(
      '\n  window                      offered/s  acked/s  stored/s  p50 ms  p99 ms  max ms  PUBACK p99  spool  relay CPU  relay RSS  influxd CPU  influxd RSS  fleet CPU',
    );
    for (const r of results) {
      console.log(
        `  ${r.label.padEnd(26)} ${String(r.offeredPerS).padStart(9)} ${String(r.ackedPerS).padStart(8)} ${String(r.storedPerS).padStart(9)}` +
          ` ${String(r.p50Ms).padStart(7)} ${String(r.p99Ms).padStart(7)} ${String(r.maxMs).padStart(7)} ${String(r.ackP99Ms).padStart(11)}` +
          ` ${String(r.spoolDepthEnd).padStart(6)} ${`${r.relayCpuPct} %`.padStart(10)} ${`${r.relayRssMiB} MiB`.padStart(10)}` +
          ` ${`${r.influxCpuPct} %`.padStart(12)} ${`${r.influxRssMiB} MiB`.padStart(12)} ${`${r.fleetCpuPct} %`.padStart(10)}` +
          `${r.keptUp ? '' : '  <- tops out'}`,
      );
    }
    console.log(
      `\n  published ${totals.published}, acknowledged by the relay ${totals.acked}, publish failures ${totals.failed}, ` +
        `reconnects ${totals.reconnects}; readings in InfluxDB ${inInflux}; lost ${lost}; spool left ${spoolLeft}`,
    );
    console.log('  CPU % is of one core; the machine runs relay, InfluxDB and the fleet on the same cores.');
    if (lost > 0 || spoolLeft > 0) exitCode = 1;
    if (args.json) {
      writeFileSync(
        args.json,
        `${JSON.stringify({ gateways: GATEWAYS, workers: WORKERS, periodMs: PERIOD_MS, batch: BATCH, results, totals, inInflux, lost, spoolLeft }, null, 2)}\n`,
      );
    }
  } catch (error) {
    console.error(error);
    exitCode = 1;
    await fleet?.stop(1000).catch(() => {});
    await relay.close().catch(() => {});
  } finally {
    await influx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

await main();
