/** Logs carry ids, never patient names, vital-sign values or tokens. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../cloud-relay/relay.ts';
import { ENROLLMENT_PATHS } from '../../protocol/enrollment.ts';
import { topicFor } from '../../protocol/topics.ts';
import { gatewayIdentity } from './support/gateway-identity.ts';
import { alarmEvent, alarms, reading, vitals } from './support/messages.ts';
import { eventually, startHarness } from './support/relay-harness.ts';

test('a full session at debug level logs no patient name, no value and no token', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const h = await startHarness({ log: createLogger('debug', sink) });
  const displayName = 'Zebedee Quuxworth';
  const t0 = Date.UTC(2026, 0, 15, 8);
  try {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${h.relay.httpUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const created = await post(
      ENROLLMENT_PATHS.createEnrollment,
      { gatewayId: 'gw-log-01', patient: { patientId: 'patient-log', displayName, bed: 'bed-7' } },
      h.relay.adminToken,
    );
    const { enrollmentToken } = (await created.json()) as { enrollmentToken: string };
    const gw = await gatewayIdentity('gw-log-01');
    assert.equal(
      (await post(ENROLLMENT_PATHS.enroll, { enrollmentToken, gatewayId: 'gw-log-01', publicKeyJwk: gw.publicKeyJwk })).status,
      200,
    );
    const { viewerToken } = (await (
      await post('/api/v1/admin/viewers', { name: 'ward', patientIds: ['patient-log'] }, h.relay.adminToken)
    ).json()) as {
      viewerToken: string;
    };
    const client = await h.connect(gw);
    await client.publishAsync(topicFor('gw-log-01', 'vitals'), vitals('gw-log-01', 0, [reading(t0, 187.25, 83.5)]), { qos: 1 });
    await client.publishAsync(topicFor('gw-log-01', 'vitals'), vitals('gw-log-01', 5, [reading(t0 + 1000, 187.25, 83.5)]), { qos: 1 });
    await client.publishAsync(
      topicFor('gw-log-01', 'alarms'),
      alarms('gw-log-01', 0, [{ ...alarmEvent(t0), message: 'SpO2 83.5 below 88' }]),
      { qos: 1 },
    );
    await client.publishAsync(topicFor('gw-log-01', 'vitals'), Buffer.from(`{"patient": ${displayName}}`), { qos: 1 });
    await client.publishAsync(topicFor('gw-log-01', 'vitals'), Buffer.from(JSON.stringify({ v: 1, [displayName]: 1 })), { qos: 1 });
    await eventually(() => h.relay.parts.spool.depth() === 0);
    await fetch(`${h.relay.httpUrl}/api/v1/admin/gateways/gw-log-01/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.relay.adminToken}` },
    });
    await eventually(() => lines.some((l) => l.includes('gateway disconnected')));
    const quarantine = await fetch(`${h.relay.httpUrl}/api/v1/admin/quarantine`, {
      headers: { authorization: `Bearer ${h.relay.adminToken}` },
    });
    const { quarantined } = (await quarantine.json()) as { quarantined: Array<{ code: string; reason: string }> };
    assert.deepEqual(
      quarantined.map((q) => q.code),
      ['not-json', 'schema'],
    );
    assert.ok(quarantined[0]?.reason.includes('Zebedee'), 'the full reason is kept with the quarantined payload, for the operator');
    const log = lines.join('');
    assert.ok(log.includes('gw-log-01'), 'ids are logged');
    assert.ok(log.includes('sequence gap detected'));
    for (const secret of [displayName, 'Zebedee', '187.25', '83.5', 'below 88', enrollmentToken, viewerToken, h.relay.adminToken]) {
      assert.equal(log.includes(secret), false, `log must not contain ${secret.slice(0, 12)}…`);
    }
  } finally {
    await h.stop();
  }
});
