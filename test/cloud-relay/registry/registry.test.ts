import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { canView, DeviceRegistry, type EnrollmentError } from '../../../cloud-relay/registry/registry.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { gatewayIdentity, patient } from '../support/gateway-identity.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('enrollment, assignment and revocation persist across a restart', async () => {
  const clock = new FakeClock();
  const path = join(dir, 'persist.db');
  const registry = new DeviceRegistry(path, clock);
  const gw = await gatewayIdentity('gw-reg-01');
  const { enrollmentToken } = registry.createEnrollment('gw-reg-01', patient(1));
  await registry.enroll(enrollmentToken, 'gw-reg-01', gw.publicKeyJwk);
  registry.assignPatient('gw-reg-01', patient(9));
  registry.close();

  const reopened = new DeviceRegistry(path, clock);
  const record = reopened.getGateway('gw-reg-01');
  assert.equal(record?.state, 'active');
  assert.equal(record?.patient.bed, 'bed-9');
  assert.ok(reopened.publicKey('gw-reg-01'));
  const revoked: string[] = [];
  reopened.on('revoked', (id) => revoked.push(id));
  reopened.revoke('gw-reg-01');
  assert.deepEqual(revoked, ['gw-reg-01']);
  assert.equal(reopened.publicKey('gw-reg-01'), null, 'no key for a revoked gateway');
  reopened.close();
  assert.equal(new DeviceRegistry(path, clock).getGateway('gw-reg-01')?.state, 'revoked');
});

test('tokens are stored only as hashes', async () => {
  const path = join(dir, 'hashes.db');
  const registry = new DeviceRegistry(path, new FakeClock());
  const { enrollmentToken } = registry.createEnrollment('gw-reg-02', patient(2));
  const { viewerToken } = registry.createViewer('ward', ['patient-2']);
  registry.close();
  const raw = new Database(path, { readonly: true });
  const dump = JSON.stringify([raw.prepare('SELECT * FROM enrollments').all(), raw.prepare('SELECT * FROM viewers').all()]);
  raw.close();
  assert.equal(dump.includes(enrollmentToken), false);
  assert.equal(dump.includes(viewerToken), false);
});

test('a re-imaged gateway enrolls again with a new token and a new key, which becomes active', async () => {
  const registry = new DeviceRegistry(':memory:', new FakeClock());
  const first = await gatewayIdentity('gw-reg-03');
  await registry.enroll(registry.createEnrollment('gw-reg-03', patient(3)).enrollmentToken, 'gw-reg-03', first.publicKeyJwk);
  registry.revoke('gw-reg-03');
  const second = await gatewayIdentity('gw-reg-03');
  await registry.enroll(registry.createEnrollment('gw-reg-03', patient(3)).enrollmentToken, 'gw-reg-03', second.publicKeyJwk);
  const record = registry.getGateway('gw-reg-03');
  assert.equal(record?.state, 'active');
  assert.equal(record?.publicKeyJwk.x, second.publicKeyJwk.x);
  registry.close();
});

test('revoking a gateway expires its outstanding enrollment tokens', async () => {
  const registry = new DeviceRegistry(':memory:', new FakeClock());
  const gw = await gatewayIdentity('gw-reg-05');
  await registry.enroll(registry.createEnrollment('gw-reg-05', patient(5)).enrollmentToken, 'gw-reg-05', gw.publicKeyJwk);
  const spare = registry.createEnrollment('gw-reg-05', patient(5)).enrollmentToken;
  registry.revoke('gw-reg-05');
  await assert.rejects(registry.enroll(spare, 'gw-reg-05', gw.publicKeyJwk), (e: EnrollmentError) => e.code === 'token-expired');
  assert.equal(registry.getGateway('gw-reg-05')?.state, 'revoked');
  const fresh = registry.createEnrollment('gw-reg-05', patient(5)).enrollmentToken;
  await registry.enroll(fresh, 'gw-reg-05', gw.publicKeyJwk);
  assert.equal(registry.getGateway('gw-reg-05')?.state, 'active', 'a token created after the revocation re-admits it');
  registry.close();
});

test('the assignment in force at a given time is kept for every move', async () => {
  const clock = new FakeClock();
  const registry = new DeviceRegistry(':memory:', clock);
  const gw = await gatewayIdentity('gw-reg-06');
  const enrolledAt = clock.now();
  await registry.enroll(registry.createEnrollment('gw-reg-06', patient(1)).enrollmentToken, 'gw-reg-06', gw.publicKeyJwk);
  clock.advance(600_000);
  const movedAt = clock.now();
  assert.equal(registry.patientAt('gw-reg-06', movedAt)?.patientId, 'patient-1', 'read once before the move (kept in memory)');
  registry.assignPatient('gw-reg-06', patient(2));
  assert.equal(registry.patientAt('gw-reg-06', enrolledAt - 5000)?.patientId, 'patient-1', 'before the first assignment: the first');
  assert.equal(registry.patientAt('gw-reg-06', movedAt - 1)?.patientId, 'patient-1');
  assert.equal(registry.patientAt('gw-reg-06', movedAt)?.patientId, 'patient-2');
  assert.equal(registry.patientAt('gw-nobody', movedAt), null);
  clock.advance(600_000);
  registry.assignPatient('gw-reg-06', patient(3));
  assert.equal(registry.patientAt('gw-reg-06', clock.now())?.patientId, 'patient-3', 'a later move replaces what was kept');
  assert.equal(registry.patientAt('gw-reg-06', movedAt)?.patientId, 'patient-2');
  registry.close();
});

test('enrollment errors carry a code', async () => {
  const clock = new FakeClock();
  const registry = new DeviceRegistry(':memory:', clock);
  const gw = await gatewayIdentity('gw-reg-04');
  await assert.rejects(
    registry.enroll('unknown-token-value', 'gw-reg-04', gw.publicKeyJwk),
    (e: EnrollmentError) => e.code === 'unknown-token',
  );
  const { enrollmentToken } = registry.createEnrollment('gw-reg-04', patient(4), 60);
  clock.advance(60_000);
  await assert.rejects(registry.enroll(enrollmentToken, 'gw-reg-04', gw.publicKeyJwk), (e: EnrollmentError) => e.code === 'token-expired');
  registry.close();
});

test('viewer access: listed patients, or every patient with *', () => {
  const registry = new DeviceRegistry(':memory:', new FakeClock());
  const { viewerToken } = registry.createViewer('ward', ['patient-1', 'patient-3']);
  const viewer = registry.findViewer(viewerToken)!;
  assert.equal(canView(viewer, 'patient-1'), true);
  assert.equal(canView(viewer, 'patient-2'), false);
  assert.equal(canView({ viewerId: 'x', name: 'all', patientIds: ['*'] }, 'patient-2'), true);
  assert.equal(registry.findViewer('not-a-token'), null);
  registry.close();
});
