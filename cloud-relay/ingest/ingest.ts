/**
 * Uplink ingest: validate against the wire contract, commit to the spool,
 * then tell the live hub. The broker's authorizePublish hook calls it (in
 * groups, see group-commit.ts) and answers aedes only after the commit; aedes
 * writes PUBACK after that answer (lib/handlers/publish.js: authorizePublish →
 * enqueuePublish → PUBACK), so a message is on disk before the gateway may
 * forget it.
 */
import type { Logger } from 'pino';
import { decode, type RejectCode } from '../../protocol/codec.ts';
import type { PatientRef } from '../../protocol/live.ts';
import type { AlarmEvent, ConfigAckMessage, MessageByKind, Reading, StatusMessage } from '../../protocol/schemas.ts';
import type { UplinkKind } from '../../protocol/topics.ts';
import type { Clock } from '../clock.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { DeviceRegistry } from '../registry/registry.ts';
import type { DurableSpool } from './durable-spool.ts';
import { missingCount, type SeqObservation } from './seq-tracker.ts';
import type { SpoolOp, SpoolOpResult } from './spool.ts';

export interface UplinkItem {
  gatewayId: string;
  kind: UplinkKind;
  payload: Uint8Array;
}

type UplinkMessage = MessageByKind[UplinkKind];
type PayloadRejectCode = RejectCode | 'topic-mismatch';

export type IngestOutcome = { status: 'accepted' } | { status: 'duplicate' } | { status: 'rejected'; code: string; reason: string };

/** Where ingested messages go live (the dashboard hub). */
export interface LiveSink {
  vitals(patient: PatientRef, reading: Reading): void;
  alarm(patient: PatientRef, event: AlarmEvent): void;
}

export interface GatewayReport {
  status: StatusMessage | null;
  configAck: ConfigAckMessage | null;
}

export interface IngestOptions {
  spool: DurableSpool;
  registry: DeviceRegistry;
  metrics: RelayMetrics;
  log: Logger;
  clock: Clock;
  live: LiveSink;
  /** Called after a message meant for the history store was spooled. */
  onSpooled: () => void;
}

/**
 * When a message was measured, on the relay's clock as far as it can tell: the
 * gateway's time of its first reading or event when its clock is NTP-synced
 * (never later than receipt), otherwise the time it arrived. Used to attribute
 * a replayed backlog to the patient the gateway was assigned to back then.
 */
export function measuredAt(message: UplinkMessage, receivedAt: number): number {
  if (message.clock.quality !== 'synced') return receivedAt;
  const times =
    message.type === 'vitals'
      ? message.readings.map((r) => r.t)
      : message.type === 'alarms'
        ? message.events.map((e) => e.t)
        : [receivedAt];
  return Math.min(receivedAt, ...times);
}

export class Ingest {
  private readonly latestReadingT = new Map<string, number>();
  private readonly reports = new Map<string, GatewayReport>();
  /** Readings accepted in the group being settled, counted once per group. */
  private readingsAccepted = 0;

  constructor(private readonly opts: IngestOptions) {}

  /**
   * Admits one uplink payload from an authenticated gateway. Resolves with how
   * it went; rejects with SpoolWriteError when the message could not be made
   * durable, and the broker must then not acknowledge it.
   */
  async accept(gatewayId: string, kind: UplinkKind, payload: Uint8Array): Promise<IngestOutcome> {
    return (await this.acceptBatch([{ gatewayId, kind, payload }]))[0] as IngestOutcome;
  }

  /**
   * Admits several payloads in one spool transaction (one fsync for all).
   * Live pushes, metrics and logs happen only after the commit; if it fails,
   * none of the messages counts as received and SpoolWriteError is thrown.
   */
  async acceptBatch(items: readonly UplinkItem[]): Promise<IngestOutcome[]> {
    const receivedAt = this.opts.clock.now();
    const staged = items.map((item) => this.stage(item, receivedAt));
    const results = await this.opts.spool.commit(staged.map((s) => s.op));
    const outcomes = staged.map((s, i) => s.settle(results[i] ?? null));
    this.count(items, outcomes);
    return outcomes;
  }

  /**
   * Validates one message and says what to write; `settle` runs after the
   * commit with the write's result and does the side effects.
   */
  private stage(
    { gatewayId, kind, payload }: UplinkItem,
    receivedAt: number,
  ): { op: SpoolOp; settle: (result: SpoolOpResult) => IngestOutcome } {
    const { metrics, log } = this.opts;
    const decoded = decode(kind, payload);
    let rejection: { code: PayloadRejectCode; reason: string } | null = null;
    if (!decoded.ok) rejection = { code: decoded.code, reason: decoded.reason };
    else if (decoded.value.gatewayId !== gatewayId)
      rejection = { code: 'topic-mismatch', reason: 'envelope gatewayId differs from the topic' };
    const gateway = this.opts.registry.getGateway(gatewayId);
    if (!rejection && !gateway) rejection = { code: 'topic-mismatch', reason: 'gateway is not enrolled' };
    if (rejection || !decoded.ok || !gateway) {
      const { code, reason } = rejection ?? { code: 'schema' as const, reason: 'invalid' };
      return {
        op: { op: 'quarantine', gatewayId, kind, code, reason, payload, receivedAt },
        settle: () => {
          metrics.reject(code);
          // The reason of a JSON or schema error can quote the payload (V8 puts a snippet of the text in its message),
          // so it stays in the quarantine table, which is data, and out of the log.
          log.warn({ gatewayId, kind, code }, 'uplink payload rejected and quarantined');
          return { status: 'rejected', code, reason };
        },
      };
    }
    const message = decoded.value;
    const keep = message.type === 'vitals' || message.type === 'alarms';
    const patient = this.opts.registry.patientAt(gatewayId, measuredAt(message, receivedAt)) ?? gateway.patient;
    const entry = {
      gatewayId,
      patientId: patient.patientId,
      kind,
      msgId: message.msgId,
      seq: message.seq,
      // A view, not a copy: the payload is read once, into the string the spool keeps.
      payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'),
      receivedAt,
      keep,
      // A status message's seq skips every will that was never sent (clean disconnects): no gap to report.
      trackSeq: message.type !== 'status',
    };
    return {
      op: { op: 'admit', entry },
      settle: (admitted) => {
        if (!admitted || admitted.duplicate) {
          log.debug({ gatewayId, kind, msgId: message.msgId }, 'duplicate uplink message ignored');
          return { status: 'duplicate' };
        }
        this.received(gatewayId, kind, message, { ...patient, gatewayId }, admitted.seq);
        return { status: 'accepted' };
      },
    };
  }

  /** Message and reading counters, once per group rather than once per message (thousands a second). */
  private count(items: readonly UplinkItem[], outcomes: readonly IngestOutcome[]): void {
    const tally = new Map<string, { kind: UplinkKind; outcome: IngestOutcome['status']; n: number }>();
    outcomes.forEach((outcome, i) => {
      const kind = (items[i] as UplinkItem).kind;
      const key = `${kind} ${outcome.status}`;
      const entry = tally.get(key);
      if (entry) entry.n++;
      else tally.set(key, { kind, outcome: outcome.status, n: 1 });
    });
    for (const { kind, outcome, n } of tally.values()) this.opts.metrics.ingestMessages.inc({ kind, outcome }, n);
    if (this.readingsAccepted > 0) this.opts.metrics.ingestReadings.inc(this.readingsAccepted);
    this.readingsAccepted = 0;
  }

  /** After the commit: counts, gap reports, live push. */
  private received(gatewayId: string, kind: UplinkKind, message: UplinkMessage, patient: PatientRef, seq: SeqObservation): void {
    const { metrics, log } = this.opts;
    const { newGap, reset, state } = seq;
    if (newGap) {
      const missing = newGap[1] - newGap[0] + 1;
      metrics.seqGaps.inc({ kind });
      metrics.seqMissing.inc({ kind }, missing);
      log.warn({ gatewayId, kind, fromSeq: newGap[0], toSeq: newGap[1], openMissing: missingCount(state.gaps) }, 'sequence gap detected');
    }
    if (reset) {
      metrics.seqResets.inc({ kind });
      log.warn({ gatewayId, kind, seq: message.seq }, 'sequence went backwards: gateway counter restarted');
    }
    switch (message.type) {
      case 'vitals': {
        this.readingsAccepted += message.readings.length;
        // Dashboards show the newest reading; a backlog replayed by the outbox must not move them back in time.
        const newest = message.readings.reduce((a, b) => (b.t > a.t ? b : a));
        const shown = this.latestReadingT.get(patient.patientId) ?? -1;
        if (newest.t > shown) {
          this.latestReadingT.set(patient.patientId, newest.t);
          this.opts.live.vitals(patient, newest);
        }
        this.opts.onSpooled();
        break;
      }
      case 'alarms':
        for (const event of message.events) this.opts.live.alarm(patient, event);
        this.opts.onSpooled();
        break;
      case 'status':
        this.report(gatewayId).status = message;
        break;
      case 'config-ack':
        this.report(gatewayId).configAck = message;
        log.info({ gatewayId, configVersion: message.configVersion, accepted: message.accepted }, 'config acknowledged');
        break;
    }
  }

  /** The last status and config-ack a gateway sent since the relay started. */
  gatewayReport(gatewayId: string): GatewayReport {
    return this.reports.get(gatewayId) ?? { status: null, configAck: null };
  }

  private report(gatewayId: string): GatewayReport {
    let report = this.reports.get(gatewayId);
    if (!report) {
      report = { status: null, configAck: null };
      this.reports.set(gatewayId, report);
    }
    return report;
  }
}
