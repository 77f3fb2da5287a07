/**
 * npm run bench:relay -- --gateways 10000 --seconds 300
 *
 * Starts InfluxDB (Debian's influxd, temp folder, loopback), a relay writing
 * its history there (its own process: scripts/fleet/relay-process.ts), and the
 * fleet simulator (worker processes); enrolls and connects every
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
 *
 * npm run bench:relay -- --store-only [--batch 1000] [--seconds 10]
 *   measures the history stores alone (embedded SQLite, InfluxDB 1.6.7 over
 *   /write, VictoriaMetrics over /api/v2/write): readings/s in batches as the
 *   spool drainer sends them, one batch in flight at a time.
 *
 * npm run bench:relay -- --spool-growth --gateways 10000 --seconds 200
 *   the relay's spool alone: what a message costs to commit (and drain) as the
 *   dedupe index grows, 10,000 messages a round (--seconds = rounds here).
 *
 * npm run bench:relay -- --commit-cost [--data-dir DIR]
 *   what a durable commit costs on this disk: messages/s into an SQLite table
 *   (WAL, synchronous=FULL) with one transaction per message, as the relay's
 *   spool commits today, and with 10 or 100 messages per transaction.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Spool } from '../../cloud-relay/ingest/spool.ts';
import type { HistoryStore, StoredReading } from '../../cloud-relay/store/history-store.ts';
import { InfluxHistoryStore } from '../../cloud-relay/store/influx-store.ts';
import { SqliteHistoryStore } from '../../cloud-relay/store/sqlite-store.ts';
import { type Fleet, startFleet } from '../../scripts/fleet/fleet.ts';
import { LatencyHistogram } from '../../scripts/fleet/histogram.ts';
import type { LoopReport, RelayProcessCommand, RelayProcessReport, StoreWrites } from '../../scripts/fleet/relay-process.ts';
import { startInfluxDb } from '../helpers/influxdb.ts';
import { startVictoriaMetrics } from '../helpers/victoria-metrics.ts';

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
    'store-only': { type: 'boolean', default: false },
    'commit-cost': { type: 'boolean', default: false },
    'spool-growth': { type: 'boolean', default: false },
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
  /** The relay's reading writes to InfluxDB in the window: mean, and the histogram bucket bound under which 99 % fell. */
  storeWriteMeanMs: number | null;
  storeWriteP99Ms: number | null;
  spoolDepthEnd: number;
  relayCpuPct: number;
  relayRssMiB: number;
  influxCpuPct: number;
  influxRssMiB: number;
  fleetCpuPct: number;
  keptUp: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Store writes between two cumulative snapshots of the relay's histogram. */
function storeWritesBetween(before: StoreWrites, after: StoreWrites): { meanMs: number | null; p99AtMostMs: number | null } {
  const count = after.count - before.count;
  if (count <= 0) return { meanMs: null, p99AtMostMs: null };
  const earlier = new Map(before.buckets);
  const bound = after.buckets.find(([le, n]) => n - (earlier.get(le) ?? 0) >= 0.99 * count)?.[0];
  return { meanMs: round(((after.sumS - before.sumS) * 1000) / count), p99AtMostMs: bound === undefined ? null : round(bound * 1000) };
}
/** Store writes between two snapshots that took longer than `seconds` (a bucket bound). */
function writesOver(seconds: number, before: StoreWrites, after: StoreWrites): number {
  const within = (w: StoreWrites) => w.buckets.find(([le]) => le === seconds)?.[1] ?? 0;
  return after.count - before.count - (within(after) - within(before));
}
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

/** The relay's own process, and what it last reported. */
class RelayUnderTest {
  readonly child = fork(fileURLToPath(new URL('../../scripts/fleet/relay-process.ts', import.meta.url)), [], {
    // e.g. VIGIL_BENCH_RELAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the relay alone.
    execArgv: ['--import', 'tsx', ...(process.env.VIGIL_BENCH_RELAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  stored = 0;
  spoolDepth = 0;
  /** When the relay last reported; its reports stall when its event loop is saturated. */
  lastReportAt = Date.now();
  storeFailuresInARow = 0;
  storeWrites: StoreWrites = { count: 0, sumS: 0, buckets: [] };
  readonly latency = new LatencyHistogram();
  /** Since the last progress line: latency, and how the broker's event loop fared. */
  readonly recentLatency = new LatencyHistogram();
  loop: LoopReport = { delayMaxMs: 0, gcMaxMs: 0, gcTotalMs: 0 };
  private recentWrites0: StoreWrites = { count: 0, sumS: 0, buckets: [] };

  /** What happened since the last call: p99 and the event loop's worst stall. */
  takeRecent(): string {
    const { delayMaxMs, gcMaxMs, gcTotalMs } = this.loop;
    const slowWrites = writesOver(0.25, this.recentWrites0, this.storeWrites);
    const line = `last 10 s: p99 ${this.recentLatency.quantile(0.99)} ms, max ${this.recentLatency.max} ms, relay loop delay max ${round(delayMaxMs)} ms, GC max ${round(gcMaxMs)} ms (total ${round(gcTotalMs)} ms), store writes > 250 ms ${slowWrites}`;
    this.recentLatency.reset();
    this.recentWrites0 = this.storeWrites;
    this.loop = { delayMaxMs: 0, gcMaxMs: 0, gcTotalMs: 0 };
    return line;
  }

  constructor() {
    this.child.on('message', (report: RelayProcessReport) => {
      if (report.type === 'stats') {
        this.lastReportAt = Date.now();
        this.stored = report.stored;
        this.spoolDepth = report.spoolDepth;
        this.storeFailuresInARow = report.storeFailuresInARow;
        this.storeWrites = report.storeWrites;
        this.latency.addSparse(report.latency);
        this.recentLatency.addSparse(report.latency);
        this.loop.delayMaxMs = Math.max(this.loop.delayMaxMs, report.loop.delayMaxMs);
        this.loop.gcMaxMs = Math.max(this.loop.gcMaxMs, report.loop.gcMaxMs);
        this.loop.gcTotalMs += report.loop.gcTotalMs;
      }
    });
  }

  next<T extends RelayProcessReport['type']>(type: T): Promise<Extract<RelayProcessReport, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (report: RelayProcessReport) => {
        if (report.type === type) {
          this.child.off('message', onMessage);
          resolve(report as Extract<RelayProcessReport, { type: T }>);
        } else if (report.type === 'error') reject(new Error(`relay process failed: ${report.message}`));
      };
      this.child.on('message', onMessage);
      this.child.once('exit', (code) => reject(new Error(`relay process exited with ${code} before "${type}"`)));
    });
  }

  send(command: RelayProcessCommand): void {
    if (this.child.connected) this.child.send(command);
  }
}

async function main(): Promise<void> {
  const parentDir = args['data-dir'] ?? tmpdir();
  const dataDir = mkdtempSync(join(parentDir, 'vigil-bench-relay-'));
  const influx = await startInfluxDb({ databases: ['vigil_bench'], parentDir });
  const relay = new RelayUnderTest();
  relay.send({
    type: 'start',
    plan: {
      dataDir,
      influxUrl: influx.url,
      database: 'vigil_bench',
      drainBatch: BATCH,
      logLevel: process.env.VIGIL_BENCH_LOG ?? 'error',
    },
  });
  const urls = await relay.next('ready');
  console.log(
    `relay bench: ${GATEWAYS} gateways in ${WORKERS} workers, 1 message / ${PERIOD_MS} ms each, ${SECONDS} s sustained, drain batch ${BATCH}`,
  );
  console.log(`InfluxDB ${influx.url} (1.6.7, v1 /write), relay ${urls.mqttUrl}, data in ${parentDir}`);

  let fleet: Fleet | null = null;
  const results: WindowResult[] = [];
  let exitCode = 0;
  try {
    const enrollStart = Date.now();
    fleet = await startFleet({
      httpUrl: urls.httpUrl,
      mqttUrl: urls.mqttUrl,
      adminToken: urls.adminToken,
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
      relay.latency.reset();
      const t0 = Date.now();
      const relay0 = procUsage(relay.child.pid);
      const influx0 = procUsage(influx.pid());
      const fleet0 = f.pids.map((pid) => procUsage(pid).cpuMs);
      const acked0 = f.totals().acked;
      const stored0 = relay.stored;
      relay.takeRecent();
      const writes0 = relay.storeWrites;
      let rssMax = 0;
      let influxRssMax = 0;
      const end = t0 + seconds * 1000;
      while (Date.now() < end) {
        await sleep(Math.min(10_000, end - Date.now()));
        rssMax = Math.max(rssMax, procUsage(relay.child.pid).rssMiB);
        influxRssMax = Math.max(influxRssMax, procUsage(influx.pid()).rssMiB);
        const elapsed = (Date.now() - t0) / 1000;
        console.log(
          `    ${label} ${elapsed.toFixed(0)} s: acked ${((f.totals().acked - acked0) / elapsed).toFixed(0)}/s, ` +
            `stored ${((relay.stored - stored0) / elapsed).toFixed(0)}/s, spool ${relay.spoolDepth}, ` +
            `p99 so far ${relay.latency.quantile(0.99)} ms, connected ${f.totals().connected}` +
            (Date.now() - relay.lastReportAt > 3000
              ? `, relay silent for ${((Date.now() - relay.lastReportAt) / 1000).toFixed(0)} s (event loop saturated)`
              : ''),
        );
        console.log(`      ${relay.takeRecent()}`);
      }
      const wallMs = Date.now() - t0;
      const fleetCpuMs = f.pids.reduce((sum, pid, i) => sum + procUsage(pid).cpuMs - (fleet0[i] ?? 0), 0);
      const ack = f.takeAckLatency();
      const offeredPerS = (GATEWAYS * 1000) / periodMs;
      const storedPerS = ((relay.stored - stored0) * 1000) / wallMs;
      const p99 = relay.latency.quantile(0.99);
      const writes = storeWritesBetween(writes0, relay.storeWrites);
      return {
        label,
        offeredPerS: round(offeredPerS),
        ackedPerS: round(((f.totals().acked - acked0) * 1000) / wallMs),
        storedPerS: round(storedPerS),
        p50Ms: relay.latency.quantile(0.5),
        p99Ms: p99,
        maxMs: relay.latency.max,
        ackP99Ms: ack.quantile(0.99),
        storeWriteMeanMs: writes.meanMs,
        storeWriteP99Ms: writes.p99AtMostMs,
        spoolDepthEnd: relay.spoolDepth,
        relayCpuPct: round(((procUsage(relay.child.pid).cpuMs - relay0.cpuMs) / wallMs) * 100),
        relayRssMiB: round(rssMax),
        influxCpuPct: round(((procUsage(influx.pid()).cpuMs - influx0.cpuMs) / wallMs) * 100),
        influxRssMiB: round(influxRssMax),
        fleetCpuPct: round((fleetCpuMs / wallMs) * 100),
        // Kept up: stored what was offered (within 5 %: readings in flight at the window edges), p99 within a second, no backlog building.
        keptUp: storedPerS >= 0.95 * offeredPerS && p99 !== null && p99 <= 1000 && relay.spoolDepth < offeredPerS,
      };
    };

    const sustained = await measure(`sustained x1`, PERIOD_MS, SECONDS);
    results.push(sustained);
    if (sustained.keptUp) {
      for (const factor of RAMP) {
        const periodMs = PERIOD_MS / factor;
        f.setPeriod(periodMs);
        await sleep(WARMUP_MS);
        const step = await measure(`ramp x${factor}`, periodMs, STEP_SECONDS);
        results.push(step);
        if (!step.keptUp) break;
      }
    }

    console.log('  stopping the fleet, then letting the relay drain its spool into InfluxDB');
    const totals = await f.stop(60_000);
    fleet = null;
    relay.send({ type: 'stop', drainDeadlineMs: 600_000 });
    const closed = await relay.next('closed');
    await new Promise((resolve) => {
      relay.child.once('exit', resolve);
      setTimeout(resolve, 30_000).unref();
    });
    const counted = await influx.query('SELECT count("sqi") FROM "reading"', 'vigil_bench');
    const inInflux = Number(counted.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
    // Acknowledged but neither in InfluxDB nor still in the spool: the only thing that counts as lost.
    const lost = Math.max(0, totals.acked - inInflux - closed.spoolLeft);

    console.log(
      '\n  window        offered/s  acked/s  stored/s  p50 ms  p99 ms  max ms  PUBACK p99  store write mean / p99 ≤  spool  relay CPU  relay RSS  influxd CPU  influxd RSS  fleet CPU',
    );
    for (const r of results) {
      console.log(
        `  ${r.label.padEnd(12)} ${String(r.offeredPerS).padStart(9)} ${String(r.ackedPerS).padStart(8)} ${String(r.storedPerS).padStart(9)}` +
          ` ${String(r.p50Ms).padStart(7)} ${String(r.p99Ms).padStart(7)} ${String(r.maxMs).padStart(7)} ${String(r.ackP99Ms).padStart(11)}` +
          ` ${`${r.storeWriteMeanMs ?? '–'} / ${r.storeWriteP99Ms ?? '–'} ms`.padStart(24)}` +
          ` ${String(r.spoolDepthEnd).padStart(6)} ${`${r.relayCpuPct} %`.padStart(10)} ${`${r.relayRssMiB} MiB`.padStart(10)}` +
          ` ${`${r.influxCpuPct} %`.padStart(12)} ${`${r.influxRssMiB} MiB`.padStart(12)} ${`${r.fleetCpuPct} %`.padStart(10)}` +
          `${r.keptUp ? '' : '  <- tops out'}`,
      );
    }
    console.log(
      `\n  published ${totals.published}, acknowledged by the relay ${totals.acked}, publish failures ${totals.failed}, ` +
        `reconnects ${totals.reconnects}; readings in InfluxDB ${inInflux}; still in the spool ${closed.spoolLeft}; lost ${lost}`,
    );
    const errors = Object.entries(totals.errors).sort((a, b) => b[1] - a[1]);
    if (errors.length > 0) {
      console.log(
        `  gateway connection errors: ${errors
          .slice(0, 5)
          .map(([reason, n]) => `${reason} × ${n}`)
          .join('; ')}`,
      );
    }
    console.log('  CPU % is of one core; relay, InfluxDB and the fleet share the machine (and whatever else runs on it).');
    if (lost > 0) exitCode = 1;
    if (args.json) {
      writeFileSync(
        args.json,
        `${JSON.stringify({ gateways: GATEWAYS, workers: WORKERS, periodMs: PERIOD_MS, batch: BATCH, results, totals, inInflux, spoolLeft: closed.spoolLeft, lost }, null, 2)}\n`,
      );
    }
  } catch (error) {
    console.error(error);
    exitCode = 1;
    await fleet?.stop(1000).catch(() => {});
  } finally {
    if (relay.child.exitCode === null) relay.child.kill('SIGKILL');
    await influx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

/** Readings/s one store takes in batches of BATCH, one batch in flight, as the spool drainer sends them. */
async function storeThroughput(name: string, store: HistoryStore, seconds: number): Promise<void> {
  const base = Math.floor(Date.now() / 1000) * 1000 - 24 * 3600_000;
  let written = 0;
  const batchMs = new LatencyHistogram();
  const t0 = Date.now();
  for (let b = 0; Date.now() - t0 < seconds * 1000; b++) {
    const batch: StoredReading[] = Array.from({ length: BATCH }, (_, i) => ({
      gatewayId: `gw-store-bench-${i % 500}`,
      patientId: `P-store-bench-${i % 500}`,
      t: base + (b * BATCH + i) * 3,
      clockQuality: 'synced',
      hr: 60 + (i % 40),
      spo2: 95 + (i % 5),
      pi: 1 + (i % 30) / 10,
      sqi: 0.9,
    }));
    const started = performance.now();
    await store.writeReadings(batch);
    batchMs.record(performance.now() - started);
    written += batch.length;
  }
  const wallS = (Date.now() - t0) / 1000;
  console.log(
    `  ${name.padEnd(52)} ${String(Math.round(written / wallS)).padStart(9)} readings/s   batch of ${BATCH}: p50 ${batchMs.quantile(0.5)} ms, p99 ${batchMs.quantile(0.99)} ms`,
  );
  await store.close();
}

async function storeOnly(): Promise<void> {
  const seconds = Math.min(SECONDS, 30);
  const parentDir = args['data-dir'] ?? tmpdir();
  const dir = mkdtempSync(join(parentDir, 'vigil-bench-store-'));
  console.log(`history store write throughput, ${seconds} s each, batches of ${BATCH} readings, data in ${parentDir}`);
  try {
    await storeThroughput('embedded SQLite (synchronous=FULL)', new SqliteHistoryStore({ path: join(dir, 'history.sqlite') }), seconds);
    const influx = await startInfluxDb({ parentDir });
    try {
      await storeThroughput(
        'InfluxDB 1.6.7, v1 /write',
        new InfluxHistoryStore({ url: influx.url, database: 'vigil_store_bench' }),
        seconds,
      );
    } finally {
      await influx.close();
    }
    const vm = await startVictoriaMetrics();
    try {
      await storeThroughput(
        'VictoriaMetrics, v2 /api/v2/write (client library)',
        new InfluxHistoryStore({ url: vm.url, database: 'vigil', writeApi: 'v2' }),
        seconds,
      );
    } finally {
      await vm.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Messages/s into SQLite (WAL, synchronous=FULL) with `perCommit` messages per transaction. */
function commitRate(path: string, perCommit: number, seconds: number): number {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO spool (payload) VALUES (?)');
  const commit = db.transaction((payloads: string[]) => {
    for (const p of payloads) insert.run(p);
  });
  const payload = 'x'.repeat(400); // about one vitals message
  const t0 = performance.now();
  let messages = 0;
  while (performance.now() - t0 < seconds * 1000) {
    commit(Array.from({ length: perCommit }, () => payload));
    messages += perCommit;
  }
  const rate = messages / ((performance.now() - t0) / 1000);
  db.close();
  return rate;
}

function commitCost(): void {
  const parentDir = args['data-dir'] ?? tmpdir();
  const dir = mkdtempSync(join(parentDir, 'vigil-bench-commit-'));
  const seconds = Math.min(SECONDS, 10);
  console.log(`durable commits (SQLite WAL, synchronous=FULL) in ${parentDir}, ${seconds} s each`);
  try {
    for (const perCommit of [1, 10, 100]) {
      const rate = commitRate(join(dir, `commit-${perCommit}.sqlite`), perCommit, seconds);
      console.log(`  ${String(perCommit).padStart(3)} message(s) per transaction: ${Math.round(rate).toLocaleString('en')} messages/s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The relay's Spool alone, as a long run at scale drives it: messages from
 * `gateways` interleaved gateways committed 1,000 per transaction, drained
 * 10,000 at a time, and the cost per message as the dedupe index grows.
 */
function spoolGrowth(): void {
  const parentDir = args['data-dir'] ?? tmpdir();
  const dir = mkdtempSync(join(parentDir, 'vigil-bench-spool-growth-'));
  const gateways = GATEWAYS;
  const rounds = Math.round(SECONDS);
  const spool = new Spool(join(dir, 'spool.db'));
  const payload = 'x'.repeat(380);
  const seqs = new Array<number>(gateways).fill(0);
  let next = 0;
  // Random ids like newId()'s, cut from one block: a call to the random source per id would cost about as much as the spool.
  const entropy = randomBytes(16 * 10_000 * Math.max(1, rounds));
  const msgId = (n: number) => entropy.subarray(16 * n, 16 * n + 16).toString('base64url');
  console.log(`spool alone (${parentDir}): ${gateways} gateways interleaved, 1,000 messages per commit, ${rounds} rounds of 10,000`);
  try {
    // Means over blocks of 20 rounds: the dedupe index's merges make single rounds uneven.
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    for (let round = 0; round < rounds; round++) {
      for (let commit = 0; commit < 10; commit++) {
        spool.commitGroup(() => {
          for (let i = 0; i < 1000; i++) {
            const n = next++;
            const gw = n % gateways;
            const entry = {
              gatewayId: `gw-${gw}`,
              patientId: 'p',
              kind: 'vitals' as const,
              msgId: msgId(n),
              seq: seqs[gw]!,
              payload,
              receivedAt: Date.now(),
              keep: true,
            };
            seqs[gw] = (seqs[gw] as number) + 1;
            spool.admit(entry);
          }
        });
      }
      spool.remove(spool.peek(10_000).map((r) => r.id));
      const block = (round % 20) + 1;
      if (block === 20 || round === rounds - 1) {
        const cpu = process.cpuUsage(cpu0);
        const perMessage = (us: number) => (us / (block * 10_000)).toFixed(1);
        console.log(
          `  messages ${(round + 1 - block) * 10_000}–${((round + 1) * 10_000).toLocaleString('en')}: ${perMessage((performance.now() - t0) * 1000)} µs per message (user ${perMessage(cpu.user)}, system ${perMessage(cpu.system)})`,
        );
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      }
    }
  } finally {
    spool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args['store-only']) await storeOnly();
else if (args['commit-cost']) commitCost();
else if (args['spool-growth']) spoolGrowth();
else await main();
