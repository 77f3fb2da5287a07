/**
 * The whole slice over real sockets and processes: emulated MAX30102 →
 * gateway (signal, outbox) → MQTT → relay (broker, ingest, store) → WebSocket.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveMessage } from '../../protocol/live.ts';
import type { DemoPatient } from '../../scripts/demo-patients.ts';
import { type RunningSystem, startSystem } from '../../scripts/system.ts';
import { openLive } from './live.ts';

const patients: DemoPatient[] = [
  { gatewayId: 'gw-e2e-01', patientId: 'e2e-001', displayName: 'Test One', bed: '11', scenario: 'stable.json' },
  { gatewayId: 'gw-e2e-02', patientId: 'e2e-002', displayName: 'Test Two', bed: '12', scenario: 'stable.json' },
];

const isVitalsFor = (patientId: string) => (m: LiveMessage) =>
  m.type === 'vitals' && m.patient.patientId === patientId && m.reading.hr !== null && m.reading.spo2 !== null;

describe('end-to-end slice', () => {
  let system: RunningSystem;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
    system = await startSystem({ dataDir, patients });
  });

  after(async () => {
    await system?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers each patient live HR and SpO2 from the emulated sensor to a dashboard stream', async () => {
    const live = await openLive(system.relay.httpUrl, system.viewerToken);
    try {
      const snapshot = await live.waitFor((m) => m.type === 'snapshot', 10_000);
      assert.equal(snapshot.type === 'snapshot' && snapshot.patients.length, patients.length);
      for (const patient of patients) {
        const message = await live.waitFor(isVitalsFor(patient.patientId), 90_000);
        assert.ok(message.type === 'vitals');
        // The stable scenario is 72/min and 97 %: a working slice lands near it.
        assert.ok(Math.abs((message.reading.hr as number) - 72) <= 8, `HR ${message.reading.hr}`);
        assert.ok(Math.abs((message.reading.spo2 as number) - 97) <= 4, `SpO2 ${message.reading.spo2}`);
        assert.equal(message.patient.bed, patient.bed);
      }
    } finally {
      live.close();
    }
  });

  it('stores what it pushed, readable through the history API', async () => {
    const patient = patients[0] as DemoPatient;
    const url = new URL(`/api/v1/patients/${patient.patientId}/readings`, system.relay.httpUrl);
    url.searchParams.set('from', String(Date.now() - 10 * 60_000));
    url.searchParams.set('to', String(Date.now() + 60_000));
    let readings: { hr: number | null }[] = [];
    for (let attempt = 0; attempt < 30 && !readings.some((r) => r.hr !== null); attempt++) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${system.viewerToken}` } });
      assert.equal(response.status, 200);
      readings = ((await response.json()) as { readings: { hr: number | null }[] }).readings;
      if (!readings.some((r) => r.hr !== null)) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(
      readings.some((r) => r.hr !== null),
      'a stored reading with a heart rate',
    );
  });

  it('delivers every vitals message in order on a healthy link: no sequence gaps at the relay', async () => {
    const patient = patients[0] as DemoPatient;
    const url = new URL(`/api/v1/admin/gateways/${patient.gatewayId}/gaps`, system.relay.httpUrl);
    type Report = { kind: string; highestSeq: number; missing: [number, number][] };
    let vitals: Report | undefined;
    // Wait for at least ten messages, so a drain that skips some would show up as a gap.
    for (let attempt = 0; attempt < 60 && !(vitals && vitals.highestSeq >= 10); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
      const response = await fetch(url, { headers: { authorization: `Bearer ${system.relay.adminToken}` } });
      assert.equal(response.status, 200);
      vitals = ((await response.json()) as { sequences: Report[] }).sequences.find((s) => s.kind === 'vitals');
    }
    assert.ok(vitals && vitals.highestSeq >= 10, `at least 11 vitals messages seen: ${JSON.stringify(vitals)}`);
    assert.deepEqual(vitals.missing, []);
  });

  it('shows a viewer only the patients it was given', async () => {
    const response = await fetch(new URL('/api/v1/admin/viewers', system.relay.httpUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${system.relay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'one-patient', patientIds: ['e2e-001'] }),
    });
    assert.equal(response.status, 201);
    const { viewerToken } = (await response.json()) as { viewerToken: string };
    const live = await openLive(system.relay.httpUrl, viewerToken);
    try {
      await live.waitFor(isVitalsFor('e2e-001'), 30_000);
      // Two more seconds of traffic for both patients, then nothing of patient 2 may have arrived.
      await new Promise((r) => setTimeout(r, 2500));
      const leaked = live.messages.filter((m) => m.type !== 'snapshot' && m.patient.patientId !== 'e2e-001');
      assert.deepEqual(leaked, []);
      const snapshot = live.messages.find((m) => m.type === 'snapshot');
      assert.ok(snapshot?.type === 'snapshot');
      assert.deepEqual(
        snapshot.patients.map((p) => p.patient.patientId),
        ['e2e-001'],
      );
    } finally {
      live.close();
    }
  });
});
