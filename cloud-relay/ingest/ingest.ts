/**
 * Uplink ingest: validate against the wire contract, commit to the spool,
 * then tell the live hub. Runs synchronously inside the broker's
 * authorizePublish hook, which aedes calls before it writes PUBACK
 * (lib/handlers/publish.js: authorizePublish → enqueuePublish → PUBACK), so
 * a message is on disk before the gateway may forget it.
 */
import type { Logger } from 'pino';
import { decode } from '../../protocol/codec.ts';
import type { PatientRef } from '../../protocol/live.ts';
import type { AlarmEvent, ConfigAckMessage, Reading, StatusMessage } from '../../protocol/schemas.ts';
import type { UplinkKind } from '../../protocol/topics.ts';
import type { Clock } from '../clock.ts';
import type { RelayMetrics } from '../metrics.ts';
import { type DeviceRegistry, patientRef } from '../registry/registry.ts';
import { missingCount } from './seq-tracker.ts';
import type { Spool } from './spool.ts';

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
  spool: Spool;
  registry: DeviceRegistry;
  metrics: RelayMetrics;
  log: Logger;
  clock: Clock;
  live: LiveSink;
  /** Called after a message meant for the history store was spooled. */
  onSpooled: () => void;
}

export class Ingest {
  private readonly latestReadingT = new Map<string, number>();
  private readonly reports = new Map<string, GatewayReport>();

  constructor(private readonly opts: IngestOptions) {}

  /**
   * Admits one uplink payload from an authenticated gateway. Returns how it
   * went; throws SpoolWriteError when the message could not be made durable,
   * and the broker must then not acknowledge it.
   */
  accept(gatewayId: string, kind: UplinkKind, payload: Uint8Array): IngestOutcome {
    const { metrics, log, spool, clock } = this.opts;
    const receivedAt = clock.now();
    const decoded = decode(kind, payload);
    let rejection: { code: string; reason: string } | null = null;
    if (!decoded.ok) rejection = { code: decoded.code, reason: decoded.reason };
    else if (decoded.value.gatewayId !== gatewayId)
      rejection = { code: 'topic-mismatch', reason: 'envelope gatewayId differs from the topic' };
    const gateway = this.opts.registry.getGateway(gatewayId);
    if (!rejection && !gateway) rejection = { code: 'topic-mismatch', reason: 'gateway is not enrolled' };
    if (rejection || !decoded.ok || !gateway) {
      const { code, reason } = rejection ?? { code: 'schema', reason: 'invalid' };
      metrics.reject(code as 'schema');
      metrics.ingestMessages.inc({ kind, outcome: 'rejected' });
      log.warn({ gatewayId, kind, code, reason }, 'uplink payload rejected and quarantined');
      spool.quarantine(gatewayId, kind, code, reason, payload, receivedAt);
      return { status: 'rejected', code, reason };
    }
    const message = decoded.value;
    const keep = message.type === 'vitals' || message.type === 'alarms';
    const admitted = spool.admit({
      gatewayId,
      patientId: gateway.patient.patientId,
      kind,
      msgId: message.msgId,
      seq: message.seq,
      payload: Buffer.from(payload).toString('utf8'),
      receivedAt,
      keep,
    });
    if (admitted.duplicate) {
      metrics.ingestMessages.inc({ kind, outcome: 'duplicate' });
      log.debug({ gatewayId, kind, msgId: message.msgId }, 'duplicate uplink message ignored');
      return { status: 'duplicate' };
    }
    metrics.ingestMessages.inc({ kind, outcome: 'accepted' });
    const { newGap, reset, state } = admitted.seq;
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

    const patient = patientRef(gateway);
    switch (message.type) {
      case 'vitals': {
        metrics.ingestReadings.inc(message.readings.length);
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
    return { status: 'accepted' };
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
