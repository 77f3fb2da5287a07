/**
 * The gateway's identity: an EC P-256 key pair generated on first start. The
 * private key never leaves the gateway (PKCS#8 PEM, file mode 0600); the
 * public key is registered with the relay at enrollment and verifies the
 * JWTs the gateway signs as its MQTT password.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK } from 'jose';
import { DEVICE_TOKEN_ALG } from '../../protocol/device-token.ts';

export const PRIVATE_KEY_FILE = 'device-key.pem';
export const PUBLIC_KEY_FILE = 'device-key.pub.jwk';

export interface DeviceKey {
  privateKey: CryptoKey;
  /** The public half as a JWK (kty EC, crv P-256, x, y), as the enrollment API expects. */
  publicJwk: JWK;
  /** True when this call generated the key pair. */
  created: boolean;
}

export class DeviceKeyError extends Error {
  override name = 'DeviceKeyError';
}

/** Loads the key pair from `keyDir`, generating it on first start. */
export async function loadOrCreateDeviceKey(keyDir: string): Promise<DeviceKey> {
  mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const privatePath = join(keyDir, PRIVATE_KEY_FILE);
  if (!existsSync(privatePath)) {
    const { privateKey, publicKey } = await generateKeyPair(DEVICE_TOKEN_ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    // 'wx': never overwrite a key another start created meanwhile; mode applies at creation.
    writeFileSync(privatePath, await exportPKCS8(privateKey), { mode: 0o600, flag: 'wx' });
    writeFileSync(join(keyDir, PUBLIC_KEY_FILE), `${JSON.stringify(publicJwk)}\n`, { mode: 0o644 });
    return { privateKey, publicJwk, created: true };
  }
  // A key readable by others is a key that may have been copied: tighten it.
  if ((statSync(privatePath).mode & 0o077) !== 0) chmodSync(privatePath, 0o600);
  let privateKey: CryptoKey;
  try {
    privateKey = await importPKCS8(readFileSync(privatePath, 'utf8'), DEVICE_TOKEN_ALG, { extractable: true });
  } catch (error) {
    throw new DeviceKeyError(`device key ${privatePath} is unreadable; remove it and enroll again`, { cause: error });
  }
  // The public key is derived from the private one, so the two files can never disagree.
  const jwk = await exportJWK(privateKey);
  const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  return { privateKey, publicJwk, created: false };
}
