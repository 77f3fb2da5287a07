/**
 * Verifies a gateway's MQTT credentials: username = client id = gateway id,
 * password = an ES256 JWT signed with the key registered at enrollment.
 */
import { errors, jwtVerify } from 'jose';
import { DEVICE_TOKEN_ALG, MAX_DEVICE_TOKEN_LIFETIME_S } from '../../protocol/device-token.ts';
import type { Clock } from '../clock.ts';
import type { RejectReason } from '../metrics.ts';
import type { DeviceRegistry } from '../registry/registry.ts';

export interface DeviceSession {
  gatewayId: string;
  /** Token expiry, ms since 1970: the connection is closed then. */
  expiresAt: number;
}

export type AuthResult = { ok: true; session: DeviceSession } | { ok: false; reason: RejectReason; detail: string };

/** Tolerated clock difference between gateway and relay. */
export const CLOCK_TOLERANCE_S = 30;

export class DeviceAuthenticator {
  constructor(
    private readonly registry: DeviceRegistry,
    private readonly audience: string,
    private readonly clock: Clock,
  ) {}

  async verify(clientId: string | null, username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
    if (!clientId || username !== clientId || !password || password.length === 0 || password.length > 4096) {
      return { ok: false, reason: 'auth-bad-credentials', detail: 'username must equal the client id and a token must be given' };
    }
    const gateway = this.registry.getGateway(clientId);
    if (!gateway) return { ok: false, reason: 'auth-unknown-gateway', detail: 'gateway is not enrolled' };
    const key = this.registry.publicKey(clientId);
    if (gateway.state !== 'active' || !key) return { ok: false, reason: 'auth-revoked', detail: 'gateway is revoked' };
    const now = this.clock.now();
    try {
      const { payload } = await jwtVerify(password.toString('utf8'), await key, {
        algorithms: [DEVICE_TOKEN_ALG],
        audience: this.audience,
        issuer: clientId,
        subject: clientId,
        requiredClaims: ['exp', 'iat', 'sub', 'aud'],
        currentDate: new Date(now),
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      const exp = payload.exp as number;
      const iat = payload.iat as number;
      // The relay caps token lifetime so a leaked token is useful for at most an hour.
      if (exp - iat > MAX_DEVICE_TOKEN_LIFETIME_S || exp * 1000 - now > (MAX_DEVICE_TOKEN_LIFETIME_S + CLOCK_TOLERANCE_S) * 1000) {
        return { ok: false, reason: 'auth-bad-token', detail: `token lifetime exceeds ${MAX_DEVICE_TOKEN_LIFETIME_S} s` };
      }
      // Revocation may have landed while the signature was being checked.
      if (this.registry.getGateway(clientId)?.state !== 'active')
        return { ok: false, reason: 'auth-revoked', detail: 'gateway is revoked' };
      return { ok: true, session: { gatewayId: clientId, expiresAt: exp * 1000 } };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { ok: false, reason: 'auth-expired', detail: 'token has expired' };
      const code = (error as { code?: string }).code ?? 'ERR_UNKNOWN';
      return { ok: false, reason: 'auth-bad-token', detail: `token refused (${code})` };
    }
  }
}
