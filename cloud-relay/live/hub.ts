/**
 * Live push to clinicians' dashboards over WebSocket (`/live?token=`). A
 * session first gets a snapshot of the patients its viewer may see, then
 * vitals, alarms and gateway presence for those patients only. Pushes go out
 * when a message is spooled, not when the history store has it, so a slow
 * store never makes a dashboard late.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { LiveMessage, PatientRef } from '../../protocol/live.ts';
import type { AlarmEvent, Reading } from '../../protocol/schemas.ts';
import type { LiveSink } from '../ingest/ingest.ts';
import type { RelayMetrics } from '../metrics.ts';
import { canView, type DeviceRegistry, patientRef, type Viewer } from '../registry/registry.ts';
import { ActiveAlarms } from './active-alarms.ts';

export const LIVE_PATH = '/live';
/** A session that lets this much pile up unsent is closed; it reconnects and gets a fresh snapshot. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** WebSocket close code 1013 "Try Again Later" (RFC 6455 §7.4.1 registry). */
const CLOSE_TRY_AGAIN_LATER = 1013;
/** 1008 "Policy Violation": the credential is no longer valid. */
const CLOSE_POLICY_VIOLATION = 1008;

interface Session {
  ws: WebSocket;
  viewer: Viewer;
}

export class LiveHub implements LiveSink {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly sessions = new Set<Session>();
  private readonly latest = new Map<string, Reading>();
  private readonly online = new Set<string>();
  private readonly alarms = new ActiveAlarms();

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
  ) {
    // Who is where changed: every session gets a fresh snapshot of what it may now see.
    const refresh = () => {
      for (const session of this.sessions) this.sendSnapshot(session);
    };
    registry.on('enrolled', refresh);
    registry.on('assigned', refresh);
    registry.on('revoked', refresh);
    registry.on('viewerRevoked', (viewerId) => {
      for (const session of this.sessions)
        if (session.viewer.viewerId === viewerId) session.ws.close(CLOSE_POLICY_VIOLATION, 'viewer revoked');
    });
  }

  /** Takes over HTTP upgrades: `/live` is the only WebSocket path of this server; others get 404. */
  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(request.url ?? '/', 'http://relay');
      if (url.pathname !== LIVE_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const token = url.searchParams.get('token') ?? bearer(request.headers.authorization);
      const viewer = token ? this.registry.findViewer(token) : null;
      if (!viewer) {
        this.metrics.reject('live-unauthorized');
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.open(ws, viewer));
    });
  }

  vitals(patient: PatientRef, reading: Reading): void {
    this.latest.set(patient.patientId, reading);
    this.push(patient.patientId, { type: 'vitals', patient, reading });
  }

  alarm(patient: PatientRef, event: AlarmEvent): void {
    this.alarms.record(patient.patientId, event);
    this.push(patient.patientId, { type: 'alarm', patient, event });
  }

  /** Remembers alarm events from before this process started (history, spool) without pushing them. */
  restoreAlarms(patientId: string, events: readonly AlarmEvent[]): void {
    for (const event of events) this.alarms.record(patientId, event);
  }

  gateway(patient: PatientRef, state: 'online' | 'offline', t: number): void {
    if (state === 'online') this.online.add(patient.gatewayId);
    else this.online.delete(patient.gatewayId);
    this.push(patient.patientId, { type: 'gateway', patient, state, t });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Closes every session (1001 going away). */
  close(): void {
    for (const session of this.sessions) session.ws.close(1001, 'relay shutting down');
    this.wss.close();
  }

  private open(ws: WebSocket, viewer: Viewer): void {
    const session: Session = { ws, viewer };
    this.sessions.add(session);
    this.metrics.liveSessions.set(this.sessions.size);
    this.log.info({ viewerId: viewer.viewerId }, 'dashboard session opened');
    ws.on('close', () => {
      this.sessions.delete(session);
      this.metrics.liveSessions.set(this.sessions.size);
    });
    ws.on('error', (error) => this.log.debug({ err: error, viewerId: viewer.viewerId }, 'dashboard session error'));
    // Dashboards only listen; anything they send is ignored.
    ws.on('message', () => {});
    this.sendSnapshot(session);
  }

  /**
   * The snapshot, then the newest event of every alarm still active for those
   * patients: a dashboard opened during an alarm shows it without waiting.
   */
  private sendSnapshot(session: Session): void {
    const gateways = this.registry.listGateways().filter((g) => g.state === 'active' && canView(session.viewer, g.patient.patientId));
    const patients = gateways.map((g) => ({
      patient: patientRef(g),
      latest: this.latest.get(g.patient.patientId) ?? null,
      online: this.online.has(g.gatewayId),
    }));
    this.send(session, { type: 'snapshot', patients });
    for (const g of gateways) {
      for (const event of this.alarms.active(g.patient.patientId)) this.send(session, { type: 'alarm', patient: patientRef(g), event });
    }
  }

  private push(patientId: string, message: LiveMessage): void {
    let data: string | null = null;
    for (const session of this.sessions) {
      // The access rule: a patient's data goes only to viewers allowed to see that patient.
      if (!canView(session.viewer, patientId)) continue;
      data ??= JSON.stringify(message);
      this.send(session, data);
    }
  }

  private send(session: Session, message: LiveMessage | string): void {
    const { ws } = session;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.metrics.liveDropped.inc();
      this.log.warn({ viewerId: session.viewer.viewerId }, 'dashboard session too slow; closing it');
      ws.close(CLOSE_TRY_AGAIN_LATER, 'too slow');
      return;
    }
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }
}

export function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? (match[1] as string) : null;
}
