import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { DeviceKeyError, loadOrCreateDeviceKey, PRIVATE_KEY_FILE } from '../../../gateway/uplink/device-key.ts';
import { signDeviceToken } from '../../../gateway/uplink/device-token.ts';
import { MAX_DEVICE_TOKEN_LIFETIME_S } from '../../../protocol/device-token.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-key-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('device key', () => {
  it('is generated on first start with a 0600 private key file, and the same key is loaded afterwards', async () => {
    const dir = tempDir();
    const first = await loadOrCreateDeviceKey(join(dir, 'keys'));
    assert.equal(first.created, true);
    assert.equal(statSync(join(dir, 'keys', PRIVATE_KEY_FILE)).mode & 0o777, 0o600);
    assert.equal(first.publicJwk.kty, 'EC');
    assert.equal(first.publicJwk.crv, 'P-256');
    assert.equal('d' in first.publicJwk, false, 'the public JWK carries no private part');
    const second = await loadOrCreateDeviceKey(join(dir, 'keys'));
    assert.equal(second.created, false);
    assert.deepEqual(second.publicJwk, { kty: 'EC', crv: 'P-256', x: first.publicJwk.x, y: first.publicJwk.y });
  });

  it('tightens a private key file others could read', async () => {
    const dir = tempDir();
    await loadOrCreateDeviceKey(dir);
    chmodSync(join(dir, PRIVATE_KEY_FILE), 0o644);
    await loadOrCreateDeviceKey(dir);
    assert.equal(statSync(join(dir, PRIVATE_KEY_FILE)).mode & 0o777, 0o600);
  });

  it('refuses an unreadable key with a clear error', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, PRIVATE_KEY_FILE), 'not a key', { mode: 0o600 });
    await assert.rejects(loadOrCreateDeviceKey(dir), DeviceKeyError);
  });
});

describe('device token', () => {
  it('carries iss = sub = gateway id, aud, iat, exp and jti, and verifies with the public key', async () => {
    const key = await loadOrCreateDeviceKey(tempDir());
    const nowMs = 1_763_000_000_000;
    const token = await signDeviceToken({
      privateKey: key.privateKey,
      gatewayId: 'gw-bed-01',
      audience: 'vigil-relay',
      nowMs,
      lifetimeS: 600,
    });
    assert.equal(decodeProtectedHeader(token.token).alg, 'ES256');
    const { payload } = await jwtVerify(token.token, await importJWK(key.publicJwk, 'ES256'), {
      issuer: 'gw-bed-01',
      subject: 'gw-bed-01',
      audience: 'vigil-relay',
      currentDate: new Date(nowMs + 1000),
    });
    assert.equal(payload.iat, nowMs / 1000);
    assert.equal(payload.exp, nowMs / 1000 + 600);
    assert.equal(payload.jti, token.jti);
    const other = await signDeviceToken({ privateKey: key.privateKey, gatewayId: 'gw-bed-01', audience: 'vigil-relay', nowMs });
    assert.notEqual(other.jti, token.jti, 'a fresh jti per token');
  });

  it('never asks for more than the contract maximum lifetime', async () => {
    const key = await loadOrCreateDeviceKey(tempDir());
    const token = await signDeviceToken({ privateKey: key.privateKey, gatewayId: 'gw-bed-01', audience: 'a', nowMs: 0, lifetimeS: 86_400 });
    assert.equal(token.exp - token.iat, MAX_DEVICE_TOKEN_LIFETIME_S);
  });
});
