/**
 * The gateway's MQTT password is a short-lived ES256 JWT it signs with its
 * own private key; the relay verifies it against the public key registered at
 * enrollment. These constants are the claims both sides agree on.
 */
export const DEVICE_TOKEN_ALG = 'ES256' as const;
/** `aud` claim: the relay the token is meant for. */
export const DEFAULT_RELAY_AUDIENCE = 'vigil-relay';
/** Upper bound on `exp - iat`, enforced by the relay. */
export const MAX_DEVICE_TOKEN_LIFETIME_S = 3600;
