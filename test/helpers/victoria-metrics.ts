/**
 * Starts Debian's `victoria-metrics` for tests: a real server that accepts
 * InfluxDB line protocol on `/api/v2/write` (and `/write`), used to exercise
 * the store's v2 write path. It has no InfluxQL, so reads go through its own
 * `/api/v1/export`, which gives raw samples per series.
 *
 * What VictoriaMetrics keeps of a line: every numeric field becomes a series
 * named `<measurement>_<field>` labelled with the tags; string fields are
 * stored as 0, so the reader here cannot give back text (the contract suite
 * runs with `stringFields: false` against it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingQuery, StoredAlarmEvent, StoredReading } from '../../cloud-relay/store/history-store.ts';
import { DEFAULT_QUERY_LIMIT } from '../../cloud-relay/store/history-store.ts';
import type { HistoryReader } from '../../cloud-relay/store/influx/influxql.ts';
import { type Daemon, freePort, startDaemon, withPortRetries } from './influxdb.ts';

export interface VictoriaMetricsServer {
  readonly url: string;
  /** Makes recently written samples searchable at once (otherwise ~1 s later). */
  forceFlush(): Promise<void>;
  /** Raw samples of every series matching the selector. */
  exportSeries(selector: string, fromMs: number, toMs: number): Promise<ExportedSeries[]>;
  close(): Promise<void>;
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export function startVictoriaMetrics(): Promise<VictoriaMetricsServer> {
  return withPortRetries(startVictoriaMetricsOnce);
}

async function startVictoriaMetricsOnce(): Promise<VictoriaMetricsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-victoria-metrics-'));
  const url = `http://127.0.0.1:${await freePort()}`;
  const daemon: Daemon = await startDaemon(
    'victoria-metrics',
    [
      `-httpListenAddr=${new URL(url).host}`,
      `-storageDataPath=${join(dir, 'data')}`,
      // One sample per series per millisecond: a replayed point replaces itself, as in InfluxDB.
      '-dedup.minScrapeInterval=1ms',
      '-retentionPeriod=1y',
      '-search.disableCache',
      '-loggerLevel=ERROR',
    ],
    join(dir, 'victoria-metrics.log'),
    `${url}/health`,
  ).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const server: VictoriaMetricsServer = {
    url,
    async forceFlush() {
      const response = await fetch(`${url}/internal/force_flush`);
      await response.body?.cancel();
      if (!response.ok) throw new Error(`force_flush answered ${response.status}`);
    },
    async exportSeries(selector, fromMs, toMs) {
      const params = new URLSearchParams({ 'match[]': selector, start: String(fromMs / 1000), end: String(toMs / 1000) });
      const response = await fetch(`${url}/api/v1/export?${params}`);
      const text = await response.text();
      if (!response.ok) throw new Error(`export answered ${response.status}: ${text.slice(0, 300)}`);
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as ExportedSeries);
    },
    async close() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Label selector value: `"` and `\` escaped as in PromQL strings. */
const label = (value: string) => JSON.stringify(value);

/**
 * Samples grouped into points by (gateway, timestamp), the same identity the
 * InfluxDB line had, then windowed and limited like InfluxQL would.
 */
async function collect(
  server: VictoriaMetricsServer,
  measurement: string,
  extraKeyLabels: string[],
  query: ReadingQuery,
): Promise<Array<{ labels: Record<string, string>; t: number; fields: Record<string, number> }>> {
  await server.forceFlush();
  const series = await server.exportSeries(
    `{__name__=~"${measurement}_.+",patient_id=${label(query.patientId)}}`,
    query.fromMs,
    Math.max(query.fromMs, query.toMs - 1),
  );
  const points = new Map<string, { labels: Record<string, string>; t: number; fields: Record<string, number> }>();
  for (const s of series) {
    const { __name__: name, ...labels } = s.metric;
    const field = (name ?? '').slice(measurement.length + 1);
    s.timestamps.forEach((t, i) => {
      if (t < query.fromMs || t >= query.toMs) return;
      const key = [labels.gateway_id, ...extraKeyLabels.map((l) => labels[l]), t].join('\u0000');
      const point = points.get(key) ?? { labels, t, fields: {} };
      point.fields[field] = s.values[i] as number;
      points.set(key, point);
    });
  }
  return [...points.values()].sort((a, b) => a.t - b.t).slice(0, query.limit ?? DEFAULT_QUERY_LIMIT);
}

/**
 * Reads what VictoriaMetrics can hold. Text it cannot keep is filled with
 * fixed placeholders (clockQuality 'synced', empty strings), which the
 * contract suite leaves out of its comparisons for this backend.
 */
export class VictoriaMetricsReader implements HistoryReader {
  constructor(private readonly server: VictoriaMetricsServer) {}

  async queryReadings(query: ReadingQuery): Promise<StoredReading[]> {
    const points = await collect(this.server, 'reading', [], query);
    return points.map(({ labels, t, fields }) => ({
      gatewayId: labels.gateway_id ?? '',
      patientId: labels.patient_id ?? '',
      t,
      clockQuality: 'synced',
      hr: fields.hr ?? null,
      spo2: fields.spo2 ?? null,
      pi: fields.pi ?? null,
      sqi: fields.sqi ?? Number.NaN,
    }));
  }

  async queryAlarmEvents(query: ReadingQuery): Promise<StoredAlarmEvent[]> {
    const points = await collect(this.server, 'alarm_event', ['rule', 'event'], query);
    return points.map(({ labels, t, fields }) => {
      const event: StoredAlarmEvent = {
        gatewayId: labels.gateway_id ?? '',
        patientId: labels.patient_id ?? '',
        t,
        mono: fields.mono ?? Number.NaN,
        alarmId: '',
        rule: labels.rule ?? '',
        event: (labels.event ?? 'raised') as StoredAlarmEvent['event'],
        kind: 'physiological',
        priority: 'high',
        message: '',
      };
      if (fields.value !== undefined) event.value = fields.value;
      if (fields.limit_value !== undefined) event.limit = fields.limit_value;
      return event;
    });
  }
}
