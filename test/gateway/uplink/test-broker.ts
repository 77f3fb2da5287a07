/**
 * An aedes broker for uplink tests that checks the device token the way the
 * relay does (jose, ES256, iss = sub = client id, aud, exp - iat ≤ 1 h), records
 * every publish, and can be stopped and started again on the same port.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import { type CryptoKey, importJWK, type JWK, type JWTPayload, jwtVerify } from 'jose';
import { MAX_DEVICE_TOKEN_LIFETIME_S } from '../../../protocol/device-token.ts';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface TestBroker {
  url: string;
  port: number;
  received: Received[];
  tokens: JWTPayload[];
  refused: string[];
  /** Publishes as the broker (e.g. a retained config downlink). */
  publish(topic: string, payload: Buffer, retain?: boolean): Promise<void>;
  /** Drops every client connection without a clean close, as a network cut would. */
  cutConnections(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  retained(topic: string): Promise<Buffer | null>;
}

export async function startTestBroker(opts: {
  publicJwk: JWK;
  audience: string;
  /** Time the broker checks `exp` against (the test moves it). */
  now?: () => number;
  /** Hold PUBACKs (by delaying authorizePublish) this long. */
  pubackDelayMs?: number;
  port?: number;
}): Promise<TestBroker> {
  const key = (await importJWK(opts.publicJwk, 'ES256')) as CryptoKey;
  const received: Received[] = [];
  const tokens: JWTPayload[] = [];
  const refused: string[] = [];
  let broker: Aedes;
  let server: Server;
  const sockets = new Set<Socket>();
  let port = opts.port ?? 0;

  const start = async () => {
    broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const fail = (why: string) => {
          refused.push(why);
          const error = new Error(why) as AuthenticateError;
          error.returnCode = 4;
          done(error, false);
        };
        if (!password || username !== client.id) return fail('bad credentials');
        jwtVerify(password.toString(), key, {
          algorithms: ['ES256'],
          audience: opts.audience,
          issuer: client.id,
          subject: client.id,
          requiredClaims: ['exp', 'iat', 'jti'],
          currentDate: new Date(opts.now?.() ?? Date.now()),
        }).then(
          ({ payload }) => {
            if ((payload.exp as number) - (payload.iat as number) > MAX_DEVICE_TOKEN_LIFETIME_S) return fail('lifetime');
            tokens.push(payload);
            done(null, true);
          },
          (error: Error) => fail(error.message),
        );
      },
      authorizePublish: (client, packet, done) => {
        if (client) received.push({ topic: packet.topic, payload: Buffer.from(packet.payload), retain: packet.retain });
        if (opts.pubackDelayMs) setTimeout(() => done(null), opts.pubackDelayMs);
        else done(null);
      },
    });
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    port = (server.address() as { port: number }).port;
  };
  await start();

  const self: TestBroker = {
    get url() {
      return `mqtt://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    received,
    tokens,
    refused,
    publish: (topic, payload, retain = false) =>
      new Promise((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false }, (error) => (error ? reject(error) : resolve())),
      ),
    cutConnections() {
      for (const socket of sockets) socket.destroy();
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
    start,
    retained: (topic) =>
      new Promise((resolve) => {
        let found: Buffer | null = null;
        // aedes keeps retained messages in its persistence; the typings do not expose it.
        (broker as unknown as { persistence: { createRetainedStream(pattern: string): NodeJS.ReadableStream } }).persistence
          .createRetainedStream(topic)
          .on('data', (packet: { payload: Buffer }) => {
            found = Buffer.from(packet.payload);
          })
          .on('end', () => resolve(found));
      }),
  };
  return self;
}

/** Resolves when `condition` holds, polling every 10 ms; rejects after `timeoutMs` with `what`. */
export async function until(condition: () => boolean, what: string | (() => string), timeoutMs = 15_000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
