/**
 * The MQTT uplink (MQTT 3.1.1 over mqtt.js): drains the outbox to the relay
 * and receives the config downlink.
 *
 * Guarantees (docs/RELIABILITY.md):
 * - A message leaves the outbox only in the publish callback of a QoS 1
 *   publish without error, which mqtt.js calls on the broker's PUBACK
 *   [MQTT-4.3.2]. Anything in flight when the connection drops goes back to
 *   the outbox and is published again, with the same msgId, on the next
 *   connection: at-least-once, and the relay dedupes.
 * - One mqtt.js client per connection, with `reconnectPeriod: 0`: mqtt.js's own
 *   reconnect retries at a fixed period and resends from its in-memory store;
 *   here the outbox is the only store, and reconnects use exponential backoff
 *   with full jitter (backoff.ts).
 * - The password is a fresh ES256 JWT per connection; MQTT 3.1.1 has no
 *   re-authentication, and the relay closes a connection when its token
 *   expires, so the uplink reconnects with a new token before that.
 * - A retained status (online, then periodic) with a retained offline last
 *   will [MQTT-3.1.2-8], so the relay knows when the gateway vanished.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { decode, encode } from '../../protocol/codec.ts';
import type { ConfigMessage, StatusMessage } from '../../protocol/schemas.ts';
import { topicFor } from '../../protocol/topics.ts';
import type { GatewayClock } from '../clock/index.ts';
import type { Outbox, OutboxLog } from '../outbox/index.ts';
import { type BackoffPolicy, DEFAULT_BACKOFF, fullJitterDelay, TokenBucket } from './backoff.ts';
import { loadOrCreateDeviceKey } from './device-key.ts';
import { DEFAULT_TOKEN_LIFETIME_S, type DeviceToken, signDeviceToken } from './device-token.ts';

export interface PacingPolicy {
  /** QoS 1 messages published and not yet acknowledged, at most. */
  maxInFlight: number;
  /** Replay rate ceiling, messages per second (Infinity: only the in-flight window limits it). */
  messagesPerSecond: number;
}

/**
 * 100 in flight matches the relay's aedes `maxInflightInbound`; 5,000 msg/s
 * drains a day of 1 Hz vitals in under 20 s without one gateway hogging the relay.
 */
export const DEFAULT_PACING: PacingPolicy = { maxInFlight: 100, messagesPerSecond: 5_000 };

export interface TokenPolicy {
  lifetimeS: number;
  /** Reconnect with a fresh token when less than this fraction of its lifetime is left. */
  renewAtFraction: number;
}

export const DEFAULT_TOKEN_POLICY: TokenPolicy = { lifetimeS: DEFAULT_TOKEN_LIFETIME_S, renewAtFraction: 0.2 };

export type ConfigResult = { accepted: boolean; reason?: string };

export interface UplinkOptions {
  gatewayId: string;
  mqttUrl: string;
  audience: string;
  keyDir: string;
  outbox: Outbox;
  clock: GatewayClock;
  /** PEM of the CA to pin for mqtts (replaces the system trust store). */
  ca?: string | Buffer;
  onConfig?: (msg: ConfigMessage) => ConfigResult | Promise<ConfigResult>;
  /** Extra status fields (software version, sensor state); outbox figures are added by the uplink. */
  status?: () => Partial<Pick<StatusMessage, 'software' | 'sensor'>>;
  onConnectionChange?: (connected: boolean) => void;
  pacing?: Partial<PacingPolicy>;
  backoff?: Partial<BackoffPolicy>;
  token?: Partial<TokenPolicy>;
  statusIntervalMs?: number;
  connectTimeoutMs?: number;
  keepaliveS?: number;
  log?: OutboxLog;
  /** Jitter source; tests make it deterministic. */
  random?: () => number;
}

export interface UplinkStats {
  connected: boolean;
  /** Successful CONNACKs since start. */
  connects: number;
  /** Connection attempts that failed or dropped, since start. */
  failures: number;
  /** Consecutive failed attempts (drives the backoff). */
  attempt: number;
  nextRetryInMs: number | null;
  /** The backoff delay drawn for the latest retry, ms. */
  lastRetryDelayMs: number | null;
  published: number;
  acked: number;
  inFlight: number;
  tokenRenewals: number;
  /** `exp` of the token of the current connection, seconds since 1970. */
  tokenExp: number | null;
  configReceived: number;
  configRejected: number;
  lastError: string | null;
}

export interface Uplink {
  connected(): boolean;
  stats(): UplinkStats;
  /** Publishes the retained offline status, disconnects cleanly, stops reconnecting. In-flight messages stay in the outbox. */
  close(): Promise<void>;
}

const silentLog: OutboxLog = { info() {}, warn() {}, error() {} };

export function startUplink(opts: UplinkOptions): Uplink {
  const pacing: PacingPolicy = { ...DEFAULT_PACING, ...opts.pacing };
  const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...opts.backoff };
  const tokenPolicy: TokenPolicy = { ...DEFAULT_TOKEN_POLICY, ...opts.token };
  const log = opts.log ?? silentLog;
  const random = opts.random ?? Math.random;
  const statusIntervalMs = opts.statusIntervalMs ?? 60_000;
  const { outbox, clock, gatewayId } = opts;
  const statusTopic = topicFor(gatewayId, 'status');
  const configTopic = topicFor(gatewayId, 'config');
  const bucket = new TokenBucket(pacing.messagesPerSecond, () => clock.monoMs());
  const keyPromise = loadOrCreateDeviceKey(opts.keyDir);
  // A failed key load is reported by connect(); this keeps it from being an unhandled rejection meanwhile.
  keyPromise.catch(() => {});

  let client: MqttClient | null = null;
  /** Bumped per connection: callbacks from an older client are ignored. */
  let generation = 0;
  let isConnected = false;
  let closing = false;
  let renewing = false;
  let connectedAtMono = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let renewTimer: NodeJS.Timeout | null = null;
  let statusTimer: NodeJS.Timeout | null = null;
  let pumpTimer: NodeJS.Timeout | null = null;
  let nextRetryAt: number | null = null;
  const inFlight = new Set<number>();
  let lastConfigMsgId: string | null = null;
  const stats = {
    connects: 0,
    failures: 0,
    attempt: 0,
    published: 0,
    acked: 0,
    tokenRenewals: 0,
    tokenExp: null as number | null,
    lastRetryDelayMs: null as number | null,
    configReceived: 0,
    configRejected: 0,
    lastError: null as string | null,
  };

  function statusMessage(state: 'online' | 'offline'): Buffer {
    const extra = opts.status?.() ?? {};
    const o = outbox.stats();
    const message: StatusMessage = {
      ...outbox.envelope('status'),
      type: 'status',
      t: clock.nowMs(),
      state,
      software: extra.software ?? 'vigil-gateway',
      ...(extra.sensor ? { sensor: extra.sensor } : {}),
      outbox: { rows: o.rows, bytes: Math.max(0, o.bytes), evicted: o.evicted },
    };
    return encode('status', message);
  }

  function clearTimers(): void {
    for (const timer of [renewTimer, statusTimer, pumpTimer]) if (timer) clearTimeout(timer);
    renewTimer = statusTimer = pumpTimer = null;
  }

  function pump(): void {
    if (!client || !isConnected || closing || renewing) return;
    const current = client;
    const myGeneration = generation;
    while (inFlight.size < pacing.maxInFlight) {
      const granted = bucket.take(Math.min(pacing.maxInFlight - inFlight.size, 100));
      if (granted === 0) {
        if (!pumpTimer) {
          pumpTimer = setTimeout(() => {
            pumpTimer = null;
            pump();
          }, bucket.waitMs());
        }
        return;
      }
      let entries: ReturnType<Outbox['take']>;
      try {
        entries = outbox.take(granted);
      } catch (error) {
        // The outbox is closed or its storage failed: nothing to send now; the next enqueue or reconnect retries.
        stats.lastError = `outbox: ${(error as Error).message}`;
        log.error({ err: error }, 'uplink: cannot read the outbox');
        return;
      }
      if (entries.length === 0) return;
      for (const entry of entries) {
        inFlight.add(entry.id);
        stats.published += 1;
        current.publish(entry.topic, entry.payload, { qos: 1 }, (error) => {
          if (myGeneration !== generation) return; // that connection is gone; its messages were released already
          inFlight.delete(entry.id);
          if (error) {
            outbox.release([entry.id]);
            stats.lastError = `publish: ${error.message}`;
            return;
          }
          // Called on PUBACK [MQTT-4.3.2-2]: the broker owns the message now.
          outbox.ack(entry.id);
          stats.acked += 1;
          if (renewing && inFlight.size === 0) finishRenewal();
          else schedulePump();
        });
      }
    }
  }

  let pumpScheduled = false;
  /** Coalesces the PUBACKs of one socket read into one refill: one query and one write burst per tick. */
  function schedulePump(): void {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  function publishStatus(): void {
    if (!client || !isConnected) return;
    try {
      client.publish(statusTopic, statusMessage('online'), { qos: 1, retain: true });
    } catch (error) {
      log.warn({ err: error }, 'uplink: could not build the status message');
    }
    statusTimer = setTimeout(publishStatus, statusIntervalMs);
  }

  async function handleConfig(payload: Buffer): Promise<void> {
    stats.configReceived += 1;
    const decoded = decode('config', payload);
    if (!decoded.ok) {
      stats.configRejected += 1;
      log.warn({ code: decoded.code, reason: decoded.reason }, 'uplink: config downlink refused');
      return;
    }
    const config = decoded.value;
    // The retained config is delivered again on every connection; act on each message once.
    if (config.msgId === lastConfigMsgId) return;
    lastConfigMsgId = config.msgId;
    let result: ConfigResult;
    try {
      result = opts.onConfig ? await opts.onConfig(config) : { accepted: false, reason: 'this gateway takes no configuration' };
    } catch (error) {
      result = { accepted: false, reason: `config handler failed: ${(error as Error).message}`.slice(0, 500) };
    }
    if (!result.accepted) stats.configRejected += 1;
    try {
      outbox.enqueueConfigAck({
        configVersion: config.configVersion,
        accepted: result.accepted,
        ...(result.reason ? { reason: result.reason.slice(0, 500) } : {}),
      });
    } catch (error) {
      log.error({ err: error }, 'uplink: could not store the config ack');
    }
  }

  function scheduleReconnect(immediately: boolean): void {
    if (closing || reconnectTimer) return;
    const delay = immediately ? 0 : fullJitterDelay(stats.attempt, backoff, random);
    if (!immediately) {
      stats.attempt += 1;
      stats.lastRetryDelayMs = delay;
    }
    nextRetryAt = clock.monoMs() + delay;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      nextRetryAt = null;
      void connect();
    }, delay);
  }

  function onDisconnected(myGeneration: number, reason: string): void {
    if (myGeneration !== generation) return;
    generation += 1; // late callbacks of this client are now ignored
    const wasConnected = isConnected;
    const planned = renewing;
    isConnected = false;
    renewing = false;
    clearTimers();
    // Unacknowledged messages go back to the outbox: at-least-once, the relay dedupes by msgId.
    outbox.release(inFlight);
    inFlight.clear();
    const old = client;
    client = null;
    old?.removeAllListeners('message');
    old?.end(true);
    if (wasConnected) {
      if (clock.monoMs() - connectedAtMono >= backoff.stableMs) stats.attempt = 0;
      opts.onConnectionChange?.(false);
    }
    if (closing) return;
    if (planned) {
      log.info({}, 'uplink: reconnecting with a fresh token');
      scheduleReconnect(true);
      return;
    }
    stats.failures += 1;
    stats.lastError = reason;
    log.warn({ reason, attempt: stats.attempt }, 'uplink: disconnected; will retry with backoff');
    scheduleReconnect(false);
  }

  function finishRenewal(): void {
    if (!client || !renewing) return;
    stats.tokenRenewals += 1;
    client.end(false); // clean DISCONNECT: no last will [MQTT-3.1.2-10]; 'close' reconnects
  }

  function startRenewal(): void {
    if (!isConnected || closing) return;
    renewing = true;
    if (inFlight.size === 0) finishRenewal();
    // Do not wait for a slow broker forever: unacknowledged messages are re-sent anyway.
    else renewTimer = setTimeout(finishRenewal, 2_000);
  }

  async function connect(): Promise<void> {
    if (closing) return;
    const myGeneration = ++generation;
    let token: DeviceToken;
    let willPayload: Buffer;
    try {
      const key = await keyPromise;
      token = await signDeviceToken({
        privateKey: key.privateKey,
        gatewayId,
        audience: opts.audience,
        nowMs: clock.nowMs(),
        lifetimeS: tokenPolicy.lifetimeS,
      });
      willPayload = statusMessage('offline');
    } catch (error) {
      stats.failures += 1;
      stats.lastError = `token: ${(error as Error).message}`;
      log.error({ err: error }, 'uplink: cannot sign a device token');
      if (myGeneration === generation) {
        generation += 1;
        scheduleReconnect(false);
      }
      return;
    }
    if (closing || myGeneration !== generation) return;
    const options: IClientOptions = {
      clientId: gatewayId,
      username: gatewayId,
      password: token.token,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: opts.connectTimeoutMs ?? 15_000,
      keepalive: opts.keepaliveS ?? 30,
      will: { topic: statusTopic, payload: willPayload, qos: 1, retain: true },
      ...(opts.ca ? { ca: opts.ca, rejectUnauthorized: true } : {}),
    };
    const current = mqtt.connect(opts.mqttUrl, options);
    client = current;
    current.on('connect', () => {
      if (myGeneration !== generation) return;
      isConnected = true;
      connectedAtMono = clock.monoMs();
      stats.connects += 1;
      stats.tokenExp = token.exp;
      log.info({ url: opts.mqttUrl, tokenExp: token.exp }, 'uplink: connected');
      current.subscribe(configTopic, { qos: 1 }, (error) => {
        if (error) log.warn({ err: error }, 'uplink: config subscription refused');
      });
      publishStatus();
      const renewInMs = (token.exp - token.iat) * 1000 * (1 - tokenPolicy.renewAtFraction);
      renewTimer = setTimeout(startRenewal, Math.max(1_000, renewInMs));
      opts.onConnectionChange?.(true);
      pump();
    });
    current.on('message', (topic, payload) => {
      if (topic === configTopic) void handleConfig(payload);
    });
    current.on('error', (error) => {
      stats.lastError = error.message;
      log.warn({ err: error.message }, 'uplink: connection error');
      // With reconnectPeriod 0, a refused CONNECT or a socket error is followed by 'close'; make sure of it.
      if (!current.connected) current.end(true);
    });
    current.on('close', () => onDisconnected(myGeneration, stats.lastError ?? 'connection closed'));
  }

  const unsubscribe = outbox.onEnqueued(() => schedulePump());
  void connect();

  return {
    connected: () => isConnected,
    stats: () => ({
      ...stats,
      connected: isConnected,
      inFlight: inFlight.size,
      nextRetryInMs: nextRetryAt === null ? null : Math.max(0, nextRetryAt - clock.monoMs()),
    }),
    async close() {
      if (closing) return;
      closing = true;
      unsubscribe();
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      clearTimers();
      const current = client;
      if (!current) return;
      if (isConnected) {
        // A clean DISCONNECT discards the will, so say offline ourselves first.
        await new Promise<void>((resolve) => {
          try {
            current.publish(statusTopic, statusMessage('offline'), { qos: 1, retain: true }, () => resolve());
          } catch {
            resolve();
          }
          setTimeout(resolve, 2_000).unref();
        });
      }
      await new Promise<void>((resolve) => current.end(false, {}, () => resolve()));
      generation += 1;
      isConnected = false;
      outbox.release(inFlight);
      inFlight.clear();
    },
  };
}
