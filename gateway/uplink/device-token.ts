/**
 * The MQTT password: a short-lived ES256 JWT (RFC 7519) the gateway signs
 * with its own key. Claims per protocol/device-token.ts: iss = sub = gateway
 * id, aud = the relay, iat, exp (at most MAX_DEVICE_TOKEN_LIFETIME_S later)
 * and a fresh jti.
 */
import { SignJWT } from 'jose';
import { DEVICE_TOKEN_ALG, MAX_DEVICE_TOKEN_LIFETIME_S } from '../../protocol/device-token.ts';
import { newId } from '../../protocol/ids.ts';

export const DEFAULT_TOKEN_LIFETIME_S = 15 * 60;

export interface DeviceToken {
  token: string;
  jti: string;
  /** Seconds since 1970, as in the claim. */
  iat: number;
  exp: number;
}

export async function signDeviceToken(opts: {
  privateKey: CryptoKey;
  gatewayId: string;
  audience: string;
  nowMs: number;
  lifetimeS?: number;
}): Promise<DeviceToken> {
  const lifetimeS = Math.min(opts.lifetimeS ?? DEFAULT_TOKEN_LIFETIME_S, MAX_DEVICE_TOKEN_LIFETIME_S);
  if (!(lifetimeS > 0)) throw new RangeError(`token lifetime must be positive, got ${opts.lifetimeS}`);
  const iat = Math.floor(opts.nowMs / 1000);
  const exp = iat + Math.floor(lifetimeS);
  const jti = newId();
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: DEVICE_TOKEN_ALG, typ: 'JWT' })
    .setIssuer(opts.gatewayId)
    .setSubject(opts.gatewayId)
    .setAudience(opts.audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(opts.privateKey);
  return { token, jti, iat, exp };
}
