/**
 * The fleet's MQTT 3.1.1 client: CONNECT with username and password, QoS 1
 * PUBLISH with PUBACK tracking, PINGREQ keepalive, reconnection after a
 * delay. Packets are built and parsed by mqtt-packet, the codec mqtt.js and
 * aedes use, so the relay sees ordinary MQTT; what this leaves out is mqtt.js's
 * per-client machinery (stores, stream pipeline, offline queue), which at
 * 10,000 simulated gateways on the relay's own machine took most of a core
 * that the relay under test needs.
 */
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface LiteClientOptions {
  /** mqtt://host:port */
  url: string;
  clientId: string;
  username: string;
  /** Asked at every (re)connection: tokens are short-lived. */
  password: () => string;
  keepaliveS: number;
  /** Wait before reconnecting after a lost or refused connection. */
  reconnectMs: number;
  connectTimeoutMs: number;
}

export interface LiteClientEvents {
  /** CONNACK accepted. */
  connect?: () => void;
  /** Why a connection failed or ended, as a short reason ("connack timeout", "Keepalive timeout", ...). */
  error?: (reason: string) => void;
  /** A connection that had been accepted ended. */
  lost?: () => void;
  reconnect?: () => void;
}

type AckCallback = (error: Error | null) => void;

const MAX_PACKET_ID = 65_535;

export class LiteMqttClient {
  #socket: net.Socket | null = null;
  #connected = false;
  #stopped = false;
  #nextId = 1;
  readonly #inflight = new Map<number, AckCallback>();
  #connectTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #sentSincePing = false;
  #firstAttempt: { resolve: () => void; reject: (error: Error) => void } | null = null;
  #awaitingPong = false;
  readonly #host: string;
  readonly #port: number;

  constructor(
    private readonly options: LiteClientOptions,
    private readonly events: LiteClientEvents = {},
  ) {
    const url = new URL(options.url);
    if (url.protocol !== 'mqtt:') throw new Error(`the fleet client speaks mqtt:// only, not ${url.protocol}`);
    this.#host = url.hostname;
    this.#port = Number(url.port || 1883);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Messages sent and not yet acknowledged. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /**
   * Opens the connection: resolves on the first CONNACK, rejects if the first
   * attempt fails. Later losses reconnect by themselves until `end`.
   */
  start(): Promise<void> {
    this.#stopped = false;
    return new Promise((resolve, reject) => {
      this.#firstAttempt = { resolve, reject };
      this.#open();
    });
  }

  /** QoS 1 publish; `done` runs on PUBACK, or with an error if the connection is not up or ends first. */
  publish(topic: string, payload: Buffer, done: AckCallback): void {
    if (!this.#connected || !this.#socket) {
      done(new Error('not connected'));
      return;
    }
    const messageId = this.#allocateId();
    if (messageId === null) {
      done(new Error('65,535 messages in flight'));
      return;
    }
    this.#inflight.set(messageId, done);
    this.#send({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false });
  }

  /** DISCONNECT, close, and no more reconnecting; unacknowledged messages fail. */
  async end(): Promise<void> {
    this.#stopped = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    const socket = this.#socket;
    if (!socket) return;
    if (this.#connected) this.#send({ cmd: 'disconnect' });
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  #open(): void {
    const socket = net.connect({ host: this.#host, port: this.#port });
    socket.setNoDelay(true);
    this.#socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => this.#onPacket(packet));
    parser.on('error', (error: Error) => this.#fail(`bad packet from the relay: ${error.message}`));
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', (error: Error) => {
      this.events.error?.(error.message);
      this.#firstAttempt?.reject(error);
      this.#firstAttempt = null;
    });
    socket.on('close', () => this.#onClose(socket));
    socket.once('connect', () => {
      this.#send({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: this.options.clientId,
        keepalive: this.options.keepaliveS,
        username: this.options.username,
        password: Buffer.from(this.options.password()),
      });
    });
    this.#connectTimer = setTimeout(() => this.#fail('connack timeout'), this.options.connectTimeoutMs);
  }

  #onPacket(packet: Packet): void {
    switch (packet.cmd) {
      case 'connack':
        if (this.#connectTimer) clearTimeout(this.#connectTimer);
        this.#connectTimer = null;
        if (packet.returnCode !== 0) {
          this.#fail(`connection refused: code ${packet.returnCode}`);
          return;
        }
        this.#connected = true;
        this.#startPings();
        this.#firstAttempt?.resolve();
        this.#firstAttempt = null;
        this.events.connect?.();
        break;
      case 'puback': {
        const done = this.#inflight.get(packet.messageId as number);
        if (!done) return;
        this.#inflight.delete(packet.messageId as number);
        done(null);
        break;
      }
      case 'pingresp':
        this.#awaitingPong = false;
        break;
      default:
        // The fleet subscribes to nothing; anything else is ignored, as a gateway ignores what it did not ask for.
        break;
    }
  }

  #startPings(): void {
    if (this.options.keepaliveS <= 0) return;
    this.#awaitingPong = false;
    this.#pingTimer = setInterval(() => {
      if (this.#awaitingPong) {
        this.#fail('Keepalive timeout');
        return;
      }
      // Any packet sent counts as a sign of life for the broker; ping only a quiet connection.
      if (!this.#sentSincePing) {
        this.#awaitingPong = true;
        this.#send({ cmd: 'pingreq' });
      }
      this.#sentSincePing = false;
    }, this.options.keepaliveS * 1000);
  }

  #send(packet: Packet): void {
    this.#sentSincePing = true;
    this.#socket?.write(mqttPacket.generate(packet));
  }

  #allocateId(): number | null {
    for (let tries = 0; tries < MAX_PACKET_ID; tries++) {
      const id = this.#nextId;
      this.#nextId = id === MAX_PACKET_ID ? 1 : id + 1;
      if (!this.#inflight.has(id)) return id;
    }
    return null;
  }

  #fail(reason: string): void {
    this.events.error?.(reason);
    this.#firstAttempt?.reject(new Error(reason));
    this.#firstAttempt = null;
    this.#socket?.destroy();
  }

  #onClose(socket: net.Socket): void {
    if (socket !== this.#socket) return;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#connectTimer = null;
    this.#pingTimer = null;
    const wasConnected = this.#connected;
    this.#connected = false;
    this.#socket = null;
    const unacknowledged = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const done of unacknowledged) done(new Error('connection closed before PUBACK'));
    if (wasConnected && !this.#stopped) this.events.lost?.();
    if (this.#stopped) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (this.#stopped) return;
      this.events.reconnect?.();
      this.#open();
    }, this.options.reconnectMs);
  }
}
