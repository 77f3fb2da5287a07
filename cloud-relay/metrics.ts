/**
 * The relay's Prometheus metrics. One registry per relay instance, so two
 * relays in one process (tests) do not share counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Why something from outside was refused; the `reason` label of vigil_relay_rejects_total. */
export type RejectReason =
  | 'auth-bad-credentials'
  | 'auth-unknown-gateway'
  | 'auth-revoked'
  | 'auth-bad-token'
  | 'auth-expired'
  | 'unauthenticated'
  | 'acl-publish'
  | 'acl-subscribe'
  | 'connection-rate'
  | 'packet-too-large'
  | 'bad-packet'
  | 'connect-timeout'
  | 'too-large'
  | 'not-json'
  | 'schema'
  | 'topic-mismatch'
  | 'spool-failure'
  | 'http-bad-request'
  | 'http-unauthorized'
  | 'live-unauthorized';

export class RelayMetrics {
  readonly registry = new Registry();
  readonly connectedGateways: Gauge;
  readonly ingestMessages: Counter<'kind' | 'outcome'>;
  readonly ingestReadings: Counter;
  readonly spoolDepth: Gauge;
  readonly storeWriteSeconds: Histogram<'op'>;
  readonly storeWriteFailures: Counter;
  readonly storeDelaySeconds: Histogram;
  readonly rejects: Counter<'reason'>;
  readonly seqGaps: Counter<'kind'>;
  readonly seqMissing: Counter<'kind'>;
  readonly seqResets: Counter<'kind'>;
  readonly liveSessions: Gauge;
  readonly liveDropped: Counter;

  constructor(opts: { spoolDepth?: () => number; defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'vigil_relay_' });
    this.connectedGateways = new Gauge({
      name: 'vigil_relay_connected_gateways',
      help: 'Gateways with an authenticated MQTT session',
      registers,
    });
    this.ingestMessages = new Counter({
      name: 'vigil_relay_ingest_messages_total',
      help: 'Uplink messages by kind and outcome (accepted, duplicate, rejected)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.ingestReadings = new Counter({ name: 'vigil_relay_ingest_readings_total', help: 'Readings accepted into the spool', registers });
    const depth = opts.spoolDepth;
    this.spoolDepth = new Gauge({
      name: 'vigil_relay_spool_depth',
      help: 'Messages in the spool not yet accepted by the history store',
      registers,
      collect: depth
        ? function (this: Gauge) {
            this.set(depth());
          }
        : undefined,
    });
    this.storeWriteSeconds = new Histogram({
      name: 'vigil_relay_store_write_seconds',
      help: 'History store write latency per batch',
      labelNames: ['op'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.storeWriteFailures = new Counter({
      name: 'vigil_relay_store_write_failures_total',
      help: 'Failed history store batches',
      registers,
    });
    this.storeDelaySeconds = new Histogram({
      name: 'vigil_relay_store_delay_seconds',
      help: 'From a reading being measured (gateway clock) to the history store accepting it',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers,
    });
    this.rejects = new Counter({
      name: 'vigil_relay_rejects_total',
      help: 'Refused connections, packets, payloads and requests by reason',
      labelNames: ['reason'],
      registers,
    });
    this.seqGaps = new Counter({ name: 'vigil_relay_seq_gaps_total', help: 'Sequence gaps detected', labelNames: ['kind'], registers });
    this.seqMissing = new Counter({
      name: 'vigil_relay_seq_missing_messages_total',
      help: 'Messages missing according to sequence numbers when a gap was detected',
      labelNames: ['kind'],
      registers,
    });
    this.seqResets = new Counter({
      name: 'vigil_relay_seq_resets_total',
      help: 'Sequence numbers that went backwards outside any known gap',
      labelNames: ['kind'],
      registers,
    });
    this.liveSessions = new Gauge({ name: 'vigil_relay_live_sessions', help: 'Open dashboard WebSocket sessions', registers });
    this.liveDropped = new Counter({
      name: 'vigil_relay_live_dropped_sessions_total',
      help: 'Dashboard sessions closed because they could not keep up',
      registers,
    });
  }

  reject(reason: RejectReason): void {
    this.rejects.inc({ reason });
  }
}
