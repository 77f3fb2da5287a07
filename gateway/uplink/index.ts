/**
 * The gateway's link to the relay: device key, device token, enrollment and
 * the MQTT uplink that drains the outbox.
 *
 * API:
 *   enrollGateway({ relayHttpUrl, enrollmentToken, gatewayId, keyDir }) → Promise<{ audience }>
 *       generates the key pair on first use (private key 0600), registers the public key once,
 *       stores the audience in <keyDir>/enrollment.json
 *   readEnrollment(keyDir) → Enrollment | null           what a previous enrollment stored
 *   startUplink({ gatewayId, mqttUrl, audience, keyDir, outbox, clock, ca?, onConfig?, status?,
 *                 onConnectionChange?, pacing?, backoff?, token?, statusIntervalMs?, log? }) → Uplink
 *       Uplink: { connected(): boolean; stats(): UplinkStats; close(): Promise<void> }
 *   loadOrCreateDeviceKey(keyDir), signDeviceToken(...), fullJitterDelay(...)   building blocks
 */
export { type BackoffPolicy, DEFAULT_BACKOFF, fullJitterDelay, TokenBucket } from './backoff.ts';
export { type DeviceKey, DeviceKeyError, loadOrCreateDeviceKey, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE } from './device-key.ts';
export { DEFAULT_TOKEN_LIFETIME_S, type DeviceToken, signDeviceToken } from './device-token.ts';
export { type Enrollment, EnrollmentError, enrollGateway, readEnrollment } from './enroll.ts';
export {
  type ConfigResult,
  DEFAULT_PACING,
  DEFAULT_TOKEN_POLICY,
  type PacingPolicy,
  startUplink,
  type TokenPolicy,
  type Uplink,
  type UplinkOptions,
  type UplinkStats,
} from './uplink.ts';
