/** A gateway's key pair and device tokens, as the uplink makes them. */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { DeviceRegistry } from '../../../cloud-relay/registry/registry.ts';
import { DEFAULT_RELAY_AUDIENCE } from '../../../protocol/device-token.ts';
import type { PatientAssignment } from '../../../protocol/enrollment.ts';

export interface GatewayIdentity {
  gatewayId: string;
  publicKeyJwk: JWK;
  /** A device token; times in ms since 1970, lifetime in seconds. */
  token(opts?: { nowMs?: number; lifetimeS?: number; audience?: string; subject?: string }): Promise<string>;
}

export async function gatewayIdentity(gatewayId: string): Promise<GatewayIdentity> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicKeyJwk = await exportJWK(publicKey);
  return {
    gatewayId,
    publicKeyJwk,
    token: ({ nowMs = Date.now(), lifetimeS = 600, audience = DEFAULT_RELAY_AUDIENCE, subject = gatewayId } = {}) => {
      const iat = Math.floor(nowMs / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(gatewayId)
        .setSubject(subject)
        .setAudience(audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + lifetimeS)
        .setJti(`${gatewayId}-${iat}-${Math.random().toString(36).slice(2)}`)
        .sign(privateKey);
    },
  };
}

export function patient(n: number | string): PatientAssignment {
  return { patientId: `patient-${n}`, displayName: `Test Patient ${n}`, bed: `bed-${n}` };
}

/** Enrolls straight through the registry (the HTTP path has its own tests). */
export async function enrollDirect(registry: DeviceRegistry, gatewayId: string, assignment: PatientAssignment): Promise<GatewayIdentity> {
  const identity = await gatewayIdentity(gatewayId);
  const { enrollmentToken } = registry.createEnrollment(gatewayId, assignment);
  await registry.enroll(enrollmentToken, gatewayId, identity.publicKeyJwk);
  return identity;
}
