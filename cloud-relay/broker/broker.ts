/**
 * The gateways' MQTT broker: aedes 1.2 (MQTT 3.1.1) with the relay's
 * authentication, topic ACL, limits and ingest hook, over TCP, TLS and
 * WebSocket.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { encode } from '../../protocol/codec.ts';
import type { PatientRef } from '../../protocol/live.ts';
import type { ConfigMessage } from '../../protocol/schemas.ts';
import { topicFor } from '../../protocol/topics.ts';
import type { Clock } from '../clock.ts';
import { GroupCommit } from '../ingest/group-commit.ts';
import type { IngestOutcome, UplinkItem } from '../ingest/ingest.ts';
import type { RejectReason, RelayMetrics } from '../metrics.ts';
import { type DeviceRegistry, patientRef } from '../registry/registry.ts';
import { maySubscribe, uplinkKindFor } from './acl.ts';
import { ConnectionRateLimiter } from './connection-rate.ts';
import type { DeviceAuthenticator, DeviceSession } from './device-auth.ts';
import { FrameGuard } from './frame-guard.ts';

export interface BrokerLimits {
  /** Largest MQTT packet accepted, fixed header included. */
  maxPacketBytes: number;
  /** Time a new connection has to send CONNECT. */
  connectTimeoutMs: number;
  /** New connections per remote address per window; 0 disables the limit. */
  connectionsPerWindow: number;
  connectionWindowMs: number;
  /** Inbound QoS 2 messages awaiting PUBREL per client (aedes maxInflightInbound). */
  maxInflightInbound: number;
  /** Packets queued per client while CONNECT is being processed (aedes queueLimit). */
  queueLimit: number;
  /** Largest keepalive a client may ask for, in seconds; 0 allows any. */
  keepaliveLimitS: number;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  // The largest payload the contract allows (vitals, 64 KiB) plus topic and headers.
  maxPacketBytes: 80 * 1024,
  connectTimeoutMs: 10_000,
  // Generous enough for a ward's gateways reconnecting together through one NAT address after a relay restart.
  connectionsPerWindow: 120,
  connectionWindowMs: 60_000,
  maxInflightInbound: 100,
  queueLimit: 42,
  keepaliveLimitS: 0,
};

/** What the broker hands accepted uplink payloads to: one durable commit per group; rejects when it could not commit. */
export interface UplinkSink {
  acceptBatch(items: UplinkItem[]): Promise<IngestOutcome[]>;
}

export interface PresenceSink {
  gateway(patient: PatientRef, state: 'online' | 'offline', t: number): void;
}

export interface BrokerOptions {
  registry: DeviceRegistry;
  authenticator: DeviceAuthenticator;
  ingest: UplinkSink;
  presence: PresenceSink;
  metrics: RelayMetrics;
  log: Logger;
  clock: Clock;
  limits?: Partial<BrokerLimits>;
}

interface Session extends DeviceSession {
  cancelExpiry: () => void;
}

class RefusedError extends Error {
  constructor(message: string, returnCode?: number) {
    super(message);
    if (returnCode !== undefined) (this as unknown as AuthenticateError).returnCode = returnCode as AuthenticateError['returnCode'];
  }
}

const TCP_KEEPALIVE_MS = 60_000;

// CONNACK return codes, MQTT 3.1.1 §3.2.2.3.
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

export class RelayBroker {
  readonly aedes: Aedes;
  readonly limits: BrokerLimits;
  /**
   * Clients that `authenticate` accepted. aedes 1.2 may run a PUBLISH or
   * SUBSCRIBE that arrived in a later socket read than CONNECT before
   * authentication finished (review of moscajs/aedes PR #1119), with
   * `client.id` still unset, so the authorize hooks trust only this map.
   */
  private readonly sessions = new WeakMap<Client, Session>();
  private readonly rateLimiter: ConnectionRateLimiter;
  private readonly spoolWrites: GroupCommit<UplinkItem, IngestOutcome>;
  /** Uplink packets committed to the spool, waiting for aedes to publish them (see `skipUplinkFanOut`). */
  private readonly spooled = new WeakSet<PublishPacket>();
  private readonly servers: net.Server[] = [];
  private readonly openConnections = new Set<Duplex>();
  private closing = false;

  private constructor(
    aedes: Aedes,
    private readonly opts: BrokerOptions,
    limits: BrokerLimits,
  ) {
    this.aedes = aedes;
    this.limits = limits;
    this.rateLimiter = new ConnectionRateLimiter(limits.connectionsPerWindow, limits.connectionWindowMs, opts.clock);
    this.spoolWrites = new GroupCommit((items) => opts.ingest.acceptBatch(items));
    this.skipUplinkFanOut();
    this.wireEvents();
    opts.registry.on('revoked', (gatewayId) => this.disconnect(gatewayId, 'gateway revoked'));
  }

  static async create(opts: BrokerOptions): Promise<RelayBroker> {
    const limits = { ...DEFAULT_BROKER_LIMITS, ...opts.limits };
    let self: RelayBroker | null = null;
    const aedes = await Aedes.createBroker({
      connectTimeout: limits.connectTimeoutMs,
      maxInflightInbound: limits.maxInflightInbound,
      queueLimit: limits.queueLimit,
      keepaliveLimit: limits.keepaliveLimitS,
      // Gateway ids are up to 63 characters (protocol/topics.ts); the 23 of MQTT 3.1 does not apply to 3.1.1.
      maxClientsIdLength: 64,
      heartbeatInterval: 60_000,
      authenticate: (client, username, password, done) => self!.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => self!.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => self!.authorizeSubscribe(client, sub, done),
    });
    self = new RelayBroker(aedes, opts, limits);
    return self;
  }

  /** Hands a new connection to the broker, after the rate limit; guards its packet sizes. */
  handle(conn: Duplex, remoteAddress: string): void {
    if (this.closing) {
      conn.destroy();
      return;
    }
    if (!this.rateLimiter.admit(remoteAddress)) {
      this.opts.metrics.reject('connection-rate');
      this.opts.log.warn({ remoteAddress }, 'connection refused: rate limit');
      conn.destroy();
      return;
    }
    this.openConnections.add(conn);
    conn.once('close', () => this.openConnections.delete(conn));
    this.aedes.handle(conn);
    const guard = new FrameGuard(this.limits.maxPacketBytes);
    // With aedes' 'readable' listener in place, 'data' fires for each chunk aedes reads, before it parses it.
    conn.on('data', (chunk: Buffer) => {
      const verdict = guard.feed(chunk);
      if (!verdict.ok) {
        this.opts.metrics.reject(verdict.reason);
        this.opts.log.warn({ remoteAddress, reason: verdict.reason, detail: verdict.detail }, 'connection closed: bad packet');
        conn.destroy();
      }
    });
  }

  async listenTcp(host: string, port: number): Promise<net.AddressInfo> {
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      // TCP keepalive finds a dead peer even when the client asked for no MQTT keepalive.
      socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
      this.handle(socket, socket.remoteAddress ?? 'unknown');
    });
    return this.listen(server, host, port);
  }

  async listenTls(host: string, port: number, credentials: { cert: string | Buffer; key: string | Buffer }): Promise<net.AddressInfo> {
    const server = tls.createServer({ ...credentials, minVersion: 'TLSv1.2' }, (socket) => {
      socket.setNoDelay(true);
      // TCP keepalive finds a dead peer even when the client asked for no MQTT keepalive.
      socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
      this.handle(socket, socket.remoteAddress ?? 'unknown');
    });
    server.on('tlsClientError', (error) => this.opts.log.debug({ err: error }, 'TLS handshake failed'));
    return this.listen(server, host, port);
  }

  /** MQTT over WebSocket on `path` (mqtt.js uses /mqtt by default). */
  async listenWs(host: string, port: number, path = '/mqtt'): Promise<net.AddressInfo> {
    const server = http.createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
    });
    const wss = new WebSocketServer({ server, path, maxPayload: this.limits.maxPacketBytes + 1024 });
    wss.on('connection', (ws, request) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      this.handle(stream, request.socket.remoteAddress ?? 'unknown');
    });
    server.on('close', () => wss.close());
    return this.listen(server, host, port);
  }

  /** Sends a config downlink, retained so a gateway that connects later still gets it. */
  publishConfig(gatewayId: string, message: ConfigMessage): Promise<void> {
    const payload = encode('config', message);
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        { cmd: 'publish', topic: topicFor(gatewayId, 'config'), payload, qos: 1, retain: true, dup: false } as PublishPacket,
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  disconnect(gatewayId: string, why: string): boolean {
    const client = clientsOf(this.aedes)[gatewayId];
    if (!client) return false;
    this.opts.log.info({ gatewayId, why }, 'disconnecting gateway');
    client.close();
    return true;
  }

  get connectedGateways(): number {
    return this.aedes.connectedClients;
  }

  /** Stops accepting, closes every MQTT connection, stops the broker. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    for (const conn of this.openConnections) conn.destroy();
    for (const server of this.servers) if (server instanceof http.Server) server.closeAllConnections();
    await Promise.all(closed);
  }

  private async listen(server: net.Server, host: string, port: number): Promise<net.AddressInfo> {
    server.listen(port, host);
    await once(server, 'listening');
    this.servers.push(server);
    return server.address() as net.AddressInfo;
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const { authenticator, metrics, log, clock } = this.opts;
    authenticator.verify(client.id, username, password).then(
      (result) => {
        if (!result.ok) {
          metrics.reject(result.reason);
          log.warn({ clientId: client.id, reason: result.reason, detail: result.detail }, 'gateway authentication refused');
          const code =
            result.reason === 'auth-revoked' || result.reason === 'auth-unknown-gateway' ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD;
          done(new RefusedError(result.detail, code) as AuthenticateError, false);
          return;
        }
        const { session } = result;
        // The connection ends when the token does; the gateway reconnects with a fresh one.
        const cancelExpiry = clock.setTimer(session.expiresAt - clock.now(), () => {
          if (client.closed) return;
          metrics.reject('auth-expired');
          log.info({ gatewayId: session.gatewayId }, 'device token expired; closing the connection');
          client.close();
        });
        client.conn.once('close', cancelExpiry);
        this.sessions.set(client, { ...session, cancelExpiry });
        done(null, true);
      },
      (error: unknown) => {
        log.error({ err: error, clientId: client.id }, 'authentication failed unexpectedly');
        done(new RefusedError('server unavailable', 3) as AuthenticateError, false);
      },
    );
  }

  /** The session for an authenticated client whose gateway is still active, else null. */
  private session(client: Client | null): Session | null {
    const session = client ? this.sessions.get(client) : undefined;
    if (!session) return null;
    if (this.opts.registry.getGateway(session.gatewayId)?.state !== 'active') return null;
    return session;
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    const { metrics, log } = this.opts;
    const session = this.session(client);
    if (!session) {
      metrics.reject('unauthenticated');
      done(new RefusedError('publish before authentication'));
      return;
    }
    const kind = uplinkKindFor(session.gatewayId, packet.topic);
    if (!kind) {
      // MQTT 3.1.1 has no way to refuse one PUBLISH; aedes closes the connection.
      metrics.reject('acl-publish');
      log.warn({ gatewayId: session.gatewayId }, 'publish outside the gateway topic subtree refused');
      done(new RefusedError('not authorized to publish on this topic'));
      return;
    }
    // Rejected payloads are quarantined and still acknowledged: without a
    // negative PUBACK in MQTT 3.1.1, refusing would make the gateway's outbox
    // resend the same poison message forever and hold up everything behind it.
    // `done` (and with it the PUBACK) waits for the spool commit.
    this.spoolWrites.submit({ gatewayId: session.gatewayId, kind, payload: packet.payload as Buffer }, (error) => {
      if (error) {
        metrics.reject('spool-failure');
        log.error({ err: error, gatewayId: session.gatewayId, kind }, 'spool write failed; message not acknowledged');
        done(error);
        return;
      }
      this.spooled.add(packet);
      done(null);
    });
  }

  /**
   * After the PUBACK, aedes publishes each accepted packet into its own
   * pub/sub: retained store, offline queues, topic matching, 'publish' event.
   * Uplink topics have no MQTT subscribers by design (a gateway may subscribe
   * to its own config topic only, and nothing in the relay subscribes: ingest
   * has the message already), so for packets the spool has committed that
   * pipeline is skipped; at thousands of messages a second it was a good part
   * of the broker's work. Everything else (config downlinks) goes through it.
   */
  private skipUplinkFanOut(): void {
    const aedes = this.aedes as unknown as {
      publish: (packet: PublishPacket, client: Client | null, done?: (error?: Error) => void) => void;
    };
    const publish = aedes.publish.bind(aedes);
    aedes.publish = (packet, client, done) => {
      if (typeof client !== 'function' && this.spooled.delete(packet)) {
        done?.();
        return;
      }
      publish(packet, client, done);
    };
  }

  private authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const { metrics, log } = this.opts;
    const session = this.session(client);
    if (!session) {
      metrics.reject('unauthenticated');
      done(new RefusedError('subscribe before authentication'));
      return;
    }
    if (!maySubscribe(session.gatewayId, sub.topic)) {
      metrics.reject('acl-subscribe');
      log.warn({ gatewayId: session.gatewayId }, 'subscription outside the gateway config topic refused');
      // SUBACK return code 0x80 for this filter [MQTT-3.9.3].
      done(null, null);
      return;
    }
    done(null, sub);
  }

  private wireEvents(): void {
    const { aedes } = this;
    const { metrics, log, registry, presence, clock } = this.opts;
    aedes.on('clientReady', (client) => {
      const gateway = registry.getGateway(client.id);
      if (gateway?.state !== 'active') {
        client.close();
        return;
      }
      metrics.connectedGateways.set(aedes.connectedClients);
      log.info({ gatewayId: client.id }, 'gateway connected');
      presence.gateway(patientRef(gateway), 'online', clock.now());
    });
    aedes.on('clientDisconnect', (client) => {
      metrics.connectedGateways.set(aedes.connectedClients);
      log.info({ gatewayId: client.id }, 'gateway disconnected');
      // A takeover by a new connection with the same id is not an offline gateway.
      if (clientsOf(aedes)[client.id]) return;
      const gateway = registry.getGateway(client.id);
      if (gateway) presence.gateway(patientRef(gateway), 'offline', clock.now());
    });
    const onError = (client: Client, error: Error) => {
      const reason = classifyConnectionError(error);
      if (reason) metrics.reject(reason);
      log.debug({ clientId: client?.id ?? null, err: error, reason }, 'MQTT connection error');
    };
    aedes.on('clientError', onError);
    aedes.on('connectionError', onError);
    aedes.on('keepaliveTimeout', (client) => log.info({ gatewayId: client.id }, 'keepalive timeout'));
    // aedes emits 'error' for persistence and will-publishing failures; without a listener Node would exit.
    aedes.on('error' as 'closed', ((error: Error) => log.error({ err: error }, 'broker error')) as () => void);
  }
}

function classifyConnectionError(error: Error): RejectReason | null {
  const message = error.message ?? '';
  if (message.includes('connect did not arrive in time')) return 'connect-timeout';
  if (message.includes('Client queue limit reached')) return 'bad-packet';
  if (message.includes('maxInflightInbound exceeded')) return 'bad-packet';
  // mqtt-packet parser errors
  if (/Invalid|Malformed|Cannot parse|not supported|Unknown|too many levels|not allowed/i.test(message)) return 'bad-packet';
  return null;
}

/** aedes keeps connected clients by id; the typings do not declare it. */
function clientsOf(aedes: Aedes): Record<string, Client | undefined> {
  return (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
}

export type { AedesPublishPacket };
