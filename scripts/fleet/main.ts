/**
 * The fleet simulator against a relay that is already running (another
 * machine, a staging relay):
 *
 *   npx tsx scripts/fleet/main.ts --http http://relay:8080 --mqtt mqtt://relay:1883 \
 *     --gateways 5000 --workers 4 --period-ms 1000 --seconds 300
 *
 * The admin token comes from --admin-token or VIGIL_ADMIN_TOKEN. It reports
 * what a gateway can see: messages acknowledged per second and publish →
 * PUBACK latency. Publish → stored needs the relay's side: see
 * test/bench/relay.bench.ts.
 */
import { parseArgs } from 'node:util';
import { startFleet } from './fleet.ts';

const { values: args } = parseArgs({
  options: {
    http: { type: 'string' },
    mqtt: { type: 'string' },
    'admin-token': { type: 'string' },
    audience: { type: 'string' },
    gateways: { type: 'string', default: '100' },
    workers: { type: 'string', default: '2' },
    'period-ms': { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    'connect-rate': { type: 'string', default: '200' },
    'id-prefix': { type: 'string' },
    'no-enroll': { type: 'boolean', default: false },
  },
});

function required(name: string, value: string | undefined): string {
  if (!value) throw new Error(`--${name} is required`);
  return value;
}

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${value}"`);
  return n;
}

const adminToken = args['admin-token'] ?? process.env.VIGIL_ADMIN_TOKEN;
const fleet = await startFleet({
  httpUrl: required('http', args.http).replace(/\/+$/, ''),
  mqttUrl: required('mqtt', args.mqtt),
  adminToken: required('admin-token (or VIGIL_ADMIN_TOKEN)', adminToken),
  ...(args.audience ? { audience: args.audience } : {}),
  gateways: Math.round(positive('gateways', args.gateways)),
  workers: Math.round(positive('workers', args.workers)),
  periodMs: positive('period-ms', args['period-ms']),
  connectsPerSecond: positive('connect-rate', args['connect-rate']),
  ...(args['id-prefix'] ? { idPrefix: args['id-prefix'] } : {}),
  enroll: !args['no-enroll'],
  onProgress: (event) => console.log(event),
});
console.log(`gateway ids: ${fleet.gatewayIds[0]} … ${fleet.gatewayIds.at(-1)}`);
fleet.publish();
const seconds = positive('seconds', args.seconds);
const t0 = Date.now();
let acked0 = 0;
let since = t0;
while (Date.now() - t0 < seconds * 1000) {
  await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, seconds * 1000 - (Date.now() - t0))));
  const totals = fleet.totals();
  const latency = fleet.takeAckLatency();
  const now = Date.now();
  const rate = ((totals.acked - acked0) * 1000) / Math.max(1, now - since);
  since = now;
  console.log(
    `${((now - t0) / 1000).toFixed(0)} s: acked ${rate.toFixed(0)}/s, ` +
      `PUBACK p50 ${latency.quantile(0.5)} ms p99 ${latency.quantile(0.99)} ms, connected ${totals.connected}, reconnects ${totals.reconnects}`,
  );
  acked0 = totals.acked;
}
const totals = await fleet.stop(60_000);
console.log(`published ${totals.published}, acknowledged ${totals.acked}, failed ${totals.failed}, reconnects ${totals.reconnects}`);
for (const [reason, n] of Object.entries(totals.errors)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 5))
  console.log(`  ${reason} × ${n}`);
process.exit(totals.failed > 0 || totals.acked < totals.published ? 1 : 0);
