/**
 * A gateway moved to another patient may still hold readings of the previous
 * one in its outbox (a link outage). They must be stored under the patient
 * they were measured on, never shown as the new patient's.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { measuredAt } from '../../../cloud-relay/ingest/ingest.ts';
import { encode } from '../../../protocol/codec.ts';
import { topicFor } from '../../../protocol/topics.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { patient } from '../support/gateway-identity.ts';
import { reading, vitals } from '../support/messages.ts';
import { eventually, type Harness, startHarness } from '../support/relay-harness.ts';

const clock = new FakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock });
});
after(() => h.stop());

test('measuredAt: the first reading on a synced clock, never after receipt; receipt time on an unsynced clock', () => {
  const message = JSON.parse(vitals('gw-attr-00', 0, [reading(5000), reading(4000)]).toString());
  assert.equal(measuredAt(message, 10_000), 4000);
  assert.equal(measuredAt(message, 3000), 3000);
  assert.equal(measuredAt({ ...message, clock: { quality: 'unsynced', bootId: 'b' } }, 10_000), 10_000);
});

test('a backlog measured before a move is stored under the previous patient', async () => {
  const gw = await h.enroll('gw-attr-01', patient('a'));
  const beforeMove = clock.now() + 60_000;
  clock.advance(600_000);
  const moved = await fetch(`${h.relay.httpUrl}/api/v1/admin/gateways/gw-attr-01/patient`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${h.relay.adminToken}` },
    body: JSON.stringify(patient('b')),
  });
  assert.equal(moved.status, 200);
  clock.advance(60_000);
  const client = await h.connect(gw, { tokenNowMs: clock.now() });
  const topic = topicFor('gw-attr-01', 'vitals');
  await client.publishAsync(topic, vitals('gw-attr-01', 0, [reading(beforeMove, 61)]), { qos: 1 });
  await client.publishAsync(topic, vitals('gw-attr-01', 1, [reading(clock.now() - 1000, 99)]), { qos: 1 });
  const unsynced = encode('vitals', {
    ...JSON.parse(vitals('gw-attr-01', 2, [reading(beforeMove + 1000, 62)]).toString()),
    clock: { quality: 'unsynced', bootId: 'boot-2' },
  });
  await client.publishAsync(topic, unsynced, { qos: 1 });
  await eventually(() => h.store.readings.size === 3);
  const byHr = new Map([...h.store.readings.values()].map((r) => [r.hr, r.patientId]));
  assert.equal(byHr.get(61), 'patient-a', 'measured before the move: the previous patient');
  assert.equal(byHr.get(99), 'patient-b');
  assert.equal(byHr.get(62), 'patient-b', 'an unsynced clock cannot place a reading before the move: receipt time decides');
});
