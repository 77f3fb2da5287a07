/** Enrollment and the admin API over HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENROLLMENT_PATHS } from '../../protocol/enrollment.ts';
import { FakeClock } from './support/fake-clock.ts';
import { gatewayIdentity, patient } from './support/gateway-identity.ts';
import { type Harness, startHarness } from './support/relay-harness.ts';

describe('enrollment over HTTP', () => {
  let h: Harness;
  const clock = new FakeClock();

  before(async () => {
    h = await startHarness({ clock, audience: 'ward-7-relay' });
  });
  after(() => h.stop());

  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${h.relay.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const createEnrollment = async (gatewayId: string, ttlSeconds?: number) => {
    const response = await post(
      ENROLLMENT_PATHS.createEnrollment,
      { gatewayId, patient: patient(gatewayId), ...(ttlSeconds ? { ttlSeconds } : {}) },
      h.relay.adminToken,
    );
    assert.equal(response.status, 201);
    return (await response.json()) as { enrollmentToken: string; expiresAt: number };
  };

  test('admin endpoints need the admin bearer token', async () => {
    const body = { gatewayId: 'gw-http-00', patient: patient(0) };
    assert.equal((await post(ENROLLMENT_PATHS.createEnrollment, body)).status, 401);
    assert.equal((await post(ENROLLMENT_PATHS.createEnrollment, body, 'wrong-token')).status, 401);
    assert.equal((await fetch(`${h.relay.httpUrl}/api/v1/admin/gateways`)).status, 401);
  });

  test('a gateway enrolls once with its token, gets the audience, and can then connect', async () => {
    const { enrollmentToken, expiresAt } = await createEnrollment('gw-http-01');
    assert.equal(expiresAt, clock.now() + 24 * 3600_000);
    const gw = await gatewayIdentity('gw-http-01');
    const enroll = () => post(ENROLLMENT_PATHS.enroll, { enrollmentToken, gatewayId: 'gw-http-01', publicKeyJwk: gw.publicKeyJwk });
    const first = await enroll();
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { gatewayId: 'gw-http-01', audience: 'ward-7-relay' });
    const second = await enroll();
    assert.equal(second.status, 401);
    assert.equal(((await second.json()) as { error: string }).error, 'token-used');
    await assert.rejects(h.connect(gw, { tokenNowMs: clock.now() }), /Bad username or password/, 'a token for another audience is refused');
    const client = await h.connect(gw, { tokenNowMs: clock.now(), audience: 'ward-7-relay' });
    assert.equal(client.connected, true);
  });

  test('an enrollment token expires', async () => {
    const { enrollmentToken } = await createEnrollment('gw-http-02', 60);
    clock.advance(61_000);
    const gw = await gatewayIdentity('gw-http-02');
    const response = await post(ENROLLMENT_PATHS.enroll, { enrollmentToken, gatewayId: 'gw-http-02', publicKeyJwk: gw.publicKeyJwk });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'token-expired');
  });

  test('a token is bound to its gateway id, and a bad key or unknown token is refused', async () => {
    const { enrollmentToken } = await createEnrollment('gw-http-03');
    const gw = await gatewayIdentity('gw-http-04');
    const mismatch = await post(ENROLLMENT_PATHS.enroll, { enrollmentToken, gatewayId: 'gw-http-04', publicKeyJwk: gw.publicKeyJwk });
    assert.equal(mismatch.status, 403);
    const badKey = await post(ENROLLMENT_PATHS.enroll, {
      enrollmentToken,
      gatewayId: 'gw-http-03',
      publicKeyJwk: { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' },
    });
    assert.equal(badKey.status, 400);
    const unknown = await post(ENROLLMENT_PATHS.enroll, {
      enrollmentToken: 'x'.repeat(43),
      gatewayId: 'gw-http-03',
      publicKeyJwk: gw.publicKeyJwk,
    });
    assert.equal(unknown.status, 401);
  });

  test('bodies are validated against the contract: unknown properties and bad ids are refused with 400', async () => {
    const extra = await post(
      ENROLLMENT_PATHS.createEnrollment,
      { gatewayId: 'gw-http-05', patient: patient(5), role: 'admin' },
      h.relay.adminToken,
    );
    assert.equal(extra.status, 400);
    const badId = await post(ENROLLMENT_PATHS.createEnrollment, { gatewayId: 'GW/../x', patient: patient(5) }, h.relay.adminToken);
    assert.equal(badId.status, 400);
    const notJson = await fetch(`${h.relay.httpUrl}${ENROLLMENT_PATHS.enroll}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    assert.equal(notJson.status, 400);
    const metrics = await (await fetch(`${h.relay.httpUrl}/metrics`)).text();
    assert.match(metrics, /^vigil_relay_rejects_total\{reason="http-bad-request"\} [3-9]$/m);
  });

  test('an admin reassigns a gateway to another patient and bed, and lists gateways', async () => {
    const { enrollmentToken } = await createEnrollment('gw-http-06');
    const gw = await gatewayIdentity('gw-http-06');
    assert.equal(
      (await post(ENROLLMENT_PATHS.enroll, { enrollmentToken, gatewayId: 'gw-http-06', publicKeyJwk: gw.publicKeyJwk })).status,
      200,
    );
    const moved = await fetch(`${h.relay.httpUrl}/api/v1/admin/gateways/gw-http-06/patient`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.relay.adminToken}` },
      body: JSON.stringify({ patientId: 'patient-77', displayName: 'Another Patient', bed: 'bed-12' }),
    });
    assert.equal(moved.status, 200);
    const list = await fetch(`${h.relay.httpUrl}/api/v1/admin/gateways`, { headers: { authorization: `Bearer ${h.relay.adminToken}` } });
    const { gateways } = (await list.json()) as { gateways: Array<{ gatewayId: string; patient: { bed: string }; state: string }> };
    const entry = gateways.find((g) => g.gatewayId === 'gw-http-06');
    assert.equal(entry?.patient.bed, 'bed-12');
    assert.equal(entry?.state, 'active');
    const unknown = await post('/api/v1/admin/gateways/gw-nobody/revoke', {}, h.relay.adminToken);
    assert.equal(unknown.status, 404);
  });

  test('/healthz and /readyz answer', async () => {
    assert.equal((await fetch(`${h.relay.httpUrl}/healthz`)).status, 200);
    const ready = await fetch(`${h.relay.httpUrl}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { ready: boolean; store: string };
    assert.equal(body.store, 'up');
    h.store.failing = true;
    const degraded = (await (await fetch(`${h.relay.httpUrl}/readyz`)).json()) as { ready: boolean; store: string };
    assert.deepEqual([degraded.ready, degraded.store], [true, 'down'], 'a store outage is absorbed by the spool');
    h.store.failing = false;
  });
});
