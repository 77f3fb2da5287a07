/**
 * One simulated gateway, the way a real one talks to the relay: its own
 * ES256 key pair, enrollment over HTTP (admin creates a one-time token, the
 * gateway presents it with its public key), then MQTT 3.1.1 with
 * username = client id = gateway id and a short-lived JWT as password, and
 * QoS 1 vitals on its own topic.
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { DEFAULT_RELAY_AUDIENCE, MAX_DEVICE_TOKEN_LIFETIME_S } from '../../protocol/device-token.ts';
import { type CreateEnrollmentResponse, ENROLLMENT_PATHS, type PatientAssignment } from '../../protocol/enrollment.ts';
import { topicFor } from '../../protocol/topics.ts';
import { LiteMqttClient } from './mqtt-lite.ts';
import { newVitalsSource, nextVitals, type VitalsSource } from './vitals.ts';

export interface GatewayCounters {
  published: number;
  acked: number;
  failed: number;
  reconnects: number;
  /** Why connections ended or failed, by message ("Keepalive timeout", "connack timeout", ...). */
  errors?: Record<string, number>;
}

function countError(counters: GatewayCounters, reason: string): void {
  counters.errors ??= {};
  counters.errors[reason] = (counters.errors[reason] ?? 0) + 1;
}

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export class SimGateway {
  readonly topic: string;
  #keys: KeyPair | null = null;
  #publicKeyJwk: JWK | null = null;
  #client: LiteMqttClient | null = null;
  #source: VitalsSource;
  #nextToken: string | null = null;
  #tokenTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly gatewayId: string,
    readonly patient: PatientAssignment,
    private readonly counters: GatewayCounters,
    private readonly onAck: (latencyMs: number) => void,
    private readonly audience = DEFAULT_RELAY_AUDIENCE,
  ) {
    this.topic = topicFor(gatewayId, 'vitals');
    this.#source = newVitalsSource(gatewayId, Date.now());
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  async createKeys(): Promise<void> {
    this.#keys = await generateKeyPair('ES256');
    this.#publicKeyJwk = await exportJWK(this.#keys.publicKey);
  }

  /** Admin creates the enrollment, the gateway presents it: the same two calls an installer's tooling makes. */
  async enroll(httpUrl: string, adminToken: string): Promise<void> {
    const created = await postJson<CreateEnrollmentResponse>(`${httpUrl}${ENROLLMENT_PATHS.createEnrollment}`, adminToken, {
      gatewayId: this.gatewayId,
      patient: this.patient,
    });
    await postJson(`${httpUrl}${ENROLLMENT_PATHS.enroll}`, null, {
      enrollmentToken: created.enrollmentToken,
      gatewayId: this.gatewayId,
      publicKeyJwk: this.#publicKeyJwk,
    });
  }

  async token(): Promise<string> {
    if (!this.#keys) throw new Error('createKeys() first');
    const iat = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(this.gatewayId)
      .setSubject(this.gatewayId)
      .setAudience(this.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + MAX_DEVICE_TOKEN_LIFETIME_S)
      .sign(this.#keys.privateKey);
  }

  /** Resolves on the first CONNACK (rejects if it fails); later drops reconnect with a fresh token. */
  async connect(mqttUrl: string): Promise<void> {
    let password = await this.token();
    const client = new LiteMqttClient(
      {
        url: mqttUrl,
        clientId: this.gatewayId,
        username: this.gatewayId,
        password: () => this.#nextToken ?? password,
        keepaliveS: 60,
        // Spread reconnections over 2–10 s so a relay restart is not met by the whole fleet in the same second.
        reconnectMs: 2000 + Math.floor(Math.random() * 8000),
        connectTimeoutMs: 60_000,
      },
      {
        // Digits out, so "connection refused: code 5" from a thousand gateways is one line in the report.
        error: (reason) => countError(this.counters, reason.replace(/\d+/g, 'N').slice(0, 80)),
        lost: () => countError(this.counters, 'connection lost'),
        reconnect: () => {
          this.counters.reconnects++;
        },
      },
    );
    this.#client = client;
    // Tokens last an hour; keep a fresh one ready for the next reconnect.
    this.#tokenTimer = setInterval(() => {
      this.token().then((t) => {
        this.#nextToken = t;
        password = t;
      });
    }, 10 * 60_000);
    this.#tokenTimer.unref();
    await client.start();
  }

  publishOne(): void {
    const client = this.#client;
    if (!client) return;
    const { message, payload } = nextVitals(this.#source, Date.now());
    const t = message.readings[0]!.t;
    this.counters.published++;
    client.publish(this.topic, payload, (error) => {
      if (error) this.counters.failed++;
      else {
        this.counters.acked++;
        this.onAck(Date.now() - t);
      }
    });
  }

  /** Messages sent and not yet acknowledged by the relay. */
  get inflight(): number {
    return this.#client?.inflight ?? 0;
  }

  async disconnect(): Promise<void> {
    if (this.#tokenTimer) clearInterval(this.#tokenTimer);
    await this.#client?.end();
  }
}

async function postJson<T>(url: string, bearer: string | null, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${new URL(url).pathname} answered ${response.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}
