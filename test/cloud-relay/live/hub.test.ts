/** The access rule: a patient's data goes only to dashboards allowed to see that patient. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import WebSocket from 'ws';
import type { LiveMessage } from '../../../protocol/live.ts';
import { topicFor } from '../../../protocol/topics.ts';
import { type GatewayIdentity, patient } from '../support/gateway-identity.ts';
import { alarmEvent, alarms, reading, vitals } from '../support/messages.ts';
import { eventually, type Harness, startHarness } from '../support/relay-harness.ts';

const t0 = Date.UTC(2026, 0, 15, 8);

class Dashboard {
  readonly messages: LiveMessage[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(data.toString()) as LiveMessage));
  }
  static open(url: string): Promise<Dashboard> {
    const ws = new WebSocket(url);
    const dashboard = new Dashboard(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(dashboard));
      ws.once('error', reject);
    });
  }
  patientsSeen(): Set<string> {
    const ids = new Set<string>();
    for (const m of this.messages) {
      if (m.type === 'snapshot') for (const p of m.patients) ids.add(p.patient.patientId);
      else ids.add(m.patient.patientId);
    }
    return ids;
  }
}

async function createViewer(h: Harness, patientIds: string[]): Promise<string> {
  const response = await fetch(`${h.relay.httpUrl}/api/v1/admin/viewers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.relay.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ward', patientIds }),
  });
  assert.equal(response.status, 201);
  return ((await response.json()) as { viewerToken: string }).viewerToken;
}

describe('live dashboard sessions', () => {
  let h: Harness;
  let gw1: MqttClient;
  let gw2: MqttClient;
  let id2: GatewayIdentity;
  let nurseToken: string;
  let chargeToken: string;
  const liveUrl = (token: string) => `${h.relay.httpUrl.replace('http', 'ws')}/live?token=${encodeURIComponent(token)}`;

  before(async () => {
    h = await startHarness();
    gw1 = await h.connect(await h.enroll('gw-live-01', patient(1)));
    id2 = await h.enroll('gw-live-02', patient(2));
    gw2 = await h.connect(id2);
    await gw1.publishAsync(topicFor('gw-live-01', 'vitals'), vitals('gw-live-01', 1, [reading(t0, 80)]), { qos: 1 });
    nurseToken = await createViewer(h, ['patient-1']);
    chargeToken = await createViewer(h, ['*']);
  });
  after(() => h.stop());

  test('an unknown token is refused at the upgrade with 401', async () => {
    const ws = new WebSocket(liveUrl('not-a-viewer'));
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 401);
    const noToken = new WebSocket(`${h.relay.httpUrl.replace('http', 'ws')}/live`);
    assert.equal(
      await new Promise<number>((resolve) => noToken.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))),
      401,
    );
    const elsewhere = new WebSocket(`${h.relay.httpUrl.replace('http', 'ws')}/api/v1/enroll?token=${encodeURIComponent(nurseToken)}`);
    const refused = await new Promise<number>((resolve) =>
      elsewhere.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    assert.equal(refused, 404, 'no other path upgrades');
  });

  test("the snapshot lists only the viewer's patients, with the latest reading and presence", async () => {
    const nurse = await Dashboard.open(liveUrl(nurseToken));
    await eventually(() => nurse.messages.length >= 1);
    const snapshot = nurse.messages[0];
    assert.equal(snapshot?.type, 'snapshot');
    assert.ok(snapshot?.type === 'snapshot');
    assert.deepEqual(
      snapshot.patients.map((p) => [p.patient.patientId, p.patient.bed, p.online, p.latest?.hr]),
      [['patient-1', 'bed-1', true, 80]],
    );
    nurse.ws.close();
  });

  test('vitals and alarms of a patient reach only viewers allowed to see that patient', async () => {
    const nurse = await Dashboard.open(liveUrl(nurseToken));
    const charge = await Dashboard.open(liveUrl(chargeToken));
    await eventually(() => nurse.messages.length >= 1 && charge.messages.length >= 1);
    await gw2.publishAsync(topicFor('gw-live-02', 'vitals'), vitals('gw-live-02', 1, [reading(t0 + 1000, 130)]), { qos: 1 });
    await gw2.publishAsync(topicFor('gw-live-02', 'alarms'), alarms('gw-live-02', 1, [alarmEvent(t0 + 1000)]), { qos: 1 });
    await gw1.publishAsync(topicFor('gw-live-01', 'vitals'), vitals('gw-live-01', 2, [reading(t0 + 2000, 81)]), { qos: 1 });
    await eventually(() => charge.messages.filter((m) => m.type !== 'snapshot').length >= 3);
    await eventually(() => nurse.messages.some((m) => m.type === 'vitals' && m.reading.hr === 81));
    assert.deepEqual([...nurse.patientsSeen()], ['patient-1']);
    assert.deepEqual([...charge.patientsSeen()].sort(), ['patient-1', 'patient-2']);
    const alarm = charge.messages.find((m) => m.type === 'alarm');
    assert.equal(alarm?.type === 'alarm' && alarm.event.rule, 'spo2-low');
    nurse.ws.close();
    charge.ws.close();
  });

  test('a backlog replayed by the outbox does not move the dashboard back in time', async () => {
    const nurse = await Dashboard.open(liveUrl(nurseToken));
    await eventually(() => nurse.messages.length >= 1);
    await gw1.publishAsync(topicFor('gw-live-01', 'vitals'), vitals('gw-live-01', 3, [reading(t0 - 60_000, 60)]), { qos: 1 });
    await gw1.publishAsync(topicFor('gw-live-01', 'vitals'), vitals('gw-live-01', 4, [reading(t0 + 3000, 82)]), { qos: 1 });
    await eventually(() => nurse.messages.some((m) => m.type === 'vitals' && m.reading.hr === 82));
    assert.equal(nurse.messages.filter((m) => m.type === 'vitals' && m.reading.hr === 60).length, 0);
    nurse.ws.close();
  });

  test('gateway presence goes out to allowed viewers when a gateway disconnects', async () => {
    const nurse = await Dashboard.open(liveUrl(nurseToken));
    await eventually(() => nurse.messages.length >= 1);
    await gw2.endAsync();
    await gw1.endAsync();
    await eventually(() => nurse.messages.some((m) => m.type === 'gateway' && m.state === 'offline'));
    const presence = nurse.messages.filter((m) => m.type === 'gateway');
    assert.deepEqual(
      presence.map((m) => m.patient.patientId),
      ['patient-1'],
    );
    nurse.ws.close();
  });

  test('a new or moved gateway brings a fresh snapshot, filtered for each viewer', async () => {
    const nurse = await Dashboard.open(liveUrl(nurseToken));
    const charge = await Dashboard.open(liveUrl(chargeToken));
    await eventually(() => nurse.messages.length >= 1 && charge.messages.length >= 1);
    await h.enroll('gw-live-03', patient(3));
    const snapshots = (d: Dashboard) => d.messages.filter((m) => m.type === 'snapshot');
    await eventually(() => snapshots(charge).length >= 2 && snapshots(nurse).length >= 2);
    const last = (d: Dashboard) => {
      const m = snapshots(d).at(-1);
      return m?.type === 'snapshot' ? m.patients.map((p) => p.patient.patientId).sort() : [];
    };
    assert.deepEqual(last(charge), ['patient-1', 'patient-2', 'patient-3']);
    assert.deepEqual(last(nurse), ['patient-1']);
    nurse.ws.close();
    charge.ws.close();
  });

  test('revoking a viewer closes its sessions and refuses its token', async () => {
    const response = await fetch(`${h.relay.httpUrl}/api/v1/admin/viewers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.relay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'temporary', patientIds: ['patient-1'] }),
    });
    const { viewerId, viewerToken } = (await response.json()) as { viewerId: string; viewerToken: string };
    const session = await Dashboard.open(liveUrl(viewerToken));
    const closed = new Promise<number>((resolve) => session.ws.once('close', (code) => resolve(code)));
    const revoke = await fetch(`${h.relay.httpUrl}/api/v1/admin/viewers/${viewerId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${h.relay.adminToken}` },
    });
    assert.equal(revoke.status, 204);
    assert.equal(await closed, 1008);
    const again = new WebSocket(liveUrl(viewerToken));
    assert.equal(
      await new Promise<number>((resolve) => again.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))),
      401,
    );
  });

  test('a dashboard opened during an alarm gets it right after the snapshot; once cleared, no more', async () => {
    const raised = { ...alarmEvent(t0 + 5000), alarmId: 'alarm-open-01' };
    gw2 = await h.connect(id2);
    await gw2.publishAsync(topicFor('gw-live-02', 'alarms'), alarms('gw-live-02', 10, [raised]), { qos: 1 });
    const charge = await Dashboard.open(liveUrl(chargeToken));
    const nurse = await Dashboard.open(liveUrl(nurseToken));
    await eventually(() => charge.messages.some((m) => m.type === 'alarm' && m.event.alarmId === 'alarm-open-01'));
    assert.equal(charge.messages[0]?.type, 'snapshot', 'the snapshot comes first');
    await eventually(() => nurse.messages.length >= 1);
    assert.equal(
      nurse.messages.some((m) => m.type === 'alarm'),
      false,
      "another patient's alarm never reaches this viewer",
    );
    charge.ws.close();
    nurse.ws.close();

    const cleared = { ...raised, t: t0 + 9000, event: 'cleared' as const };
    await gw2.publishAsync(topicFor('gw-live-02', 'alarms'), alarms('gw-live-02', 11, [cleared]), { qos: 1 });
    const later = await Dashboard.open(liveUrl(chargeToken));
    await eventually(() => later.messages.length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      later.messages.some((m) => m.type === 'alarm' && m.event.alarmId === 'alarm-open-01'),
      false,
    );
    later.ws.close();
  });

  test('the history API answers only for patients the viewer may see', async () => {
    await eventually(() => h.relay.parts.spool.depth() === 0);
    const get = (token: string, patientId: string) =>
      fetch(`${h.relay.httpUrl}/api/v1/patients/${patientId}/readings?from=${t0 - 3600_000}&to=${t0 + 3600_000}`, {
        headers: { authorization: `Bearer ${token}` },
      });
    const own = await get(nurseToken, 'patient-1');
    assert.equal(own.status, 200);
    const body = (await own.json()) as { readings: Array<{ hr: number }> };
    assert.ok(body.readings.length >= 2);
    assert.equal((await get(nurseToken, 'patient-2')).status, 404);
    assert.equal((await get(chargeToken, 'patient-2')).status, 200);
    assert.equal((await get('bogus', 'patient-1')).status, 401);
    assert.equal((await get(h.relay.adminToken, 'patient-1')).status, 401, 'the admin token is not a viewer token');
    h.store.failing = true;
    const unavailable = await get(nurseToken, 'patient-1');
    h.store.failing = false;
    assert.equal(unavailable.status, 503, 'a store outage is reported as such, not as an internal error');
  });
});

describe('active alarms across a relay restart', () => {
  test('a dashboard opened after a restart still gets an alarm raised before it', async () => {
    const first = await startHarness();
    const gw = await first.enroll('gw-restart-01', patient(9));
    const client = await first.connect(gw);
    // Within the window the history store is asked for at start.
    const recent = Date.now() - 60_000;
    const raised = { ...alarmEvent(recent), alarmId: 'alarm-restart-1' };
    const ongoing = { ...alarmEvent(recent + 1000), alarmId: 'alarm-restart-2' };
    await client.publishAsync(topicFor('gw-restart-01', 'alarms'), alarms('gw-restart-01', 0, [raised]), { qos: 1 });
    await eventually(() => first.store.events.length === 1);
    // The second one is still in the spool when the relay stops.
    first.store.failing = true;
    await client.publishAsync(topicFor('gw-restart-01', 'alarms'), alarms('gw-restart-01', 1, [ongoing]), { qos: 1 });
    await client.endAsync();
    await first.relay.close();

    first.store.failing = false;
    const second = await startHarness({ dataDir: first.dataDir, adminToken: first.relay.adminToken, store: first.store });
    try {
      const token = second.relay.parts.registry.createViewer('ward', ['patient-9']).viewerToken;
      const dashboard = await Dashboard.open(`${second.relay.httpUrl.replace('http', 'ws')}/live?token=${token}`);
      await eventually(() => dashboard.messages.filter((m) => m.type === 'alarm').length === 2);
      const shown = dashboard.messages.filter((m) => m.type === 'alarm').map((m) => (m.type === 'alarm' ? m.event : null));
      assert.deepEqual(
        shown.map((e) => e?.alarmId),
        ['alarm-restart-1', 'alarm-restart-2'],
      );
      assert.equal(Object.hasOwn(shown[0] ?? {}, 'patientId'), false, 'the contract AlarmEvent, not the stored row');
      dashboard.ws.close();
    } finally {
      await second.stop();
    }
  });
});
