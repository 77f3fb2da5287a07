/**
 * The alarm path end to end: a desaturating (emulated) patient raises an SpO2
 * alarm at the gateway, which reaches a clinician's live stream and the
 * history store; limits sent down the config downlink are validated by the
 * gateway, which acknowledges or refuses them with the reason.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveMessage } from '../../protocol/live.ts';
import { type RunningSystem, startSystem } from '../../scripts/system.ts';
import { openLive } from './live.ts';

const GATEWAY = 'gw-alarm-01';
const PATIENT = 'alarm-001';

async function adminPost(system: RunningSystem, path: string, body: unknown): Promise<Response> {
  return fetch(new URL(path, system.relay.httpUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${system.relay.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function configAck(system: RunningSystem, configVersion: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ack = system.relay.parts.ingest.gatewayReport(GATEWAY).configAck;
    if (ack?.configVersion === configVersion) return ack;
    if (Date.now() > deadline) throw new Error(`no config-ack for version ${configVersion}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('alarm path and config downlink, end to end', () => {
  let system: RunningSystem;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-alarm-'));
    const scenario = join(dataDir, 'fast-desaturation.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'fast-desaturation',
        seed: 5,
        initial: { hrBpm: 75, spo2: 97, perfusionIndex: 2 },
        events: [{ atS: 20, overS: 8, set: { spo2: 80 } }],
      }),
    );
    system = await startSystem({
      dataDir,
      patients: [{ gatewayId: GATEWAY, patientId: PATIENT, displayName: 'Alarm Patient', bed: '4', scenario }],
    });
  });

  after(async () => {
    await system?.stop();
    if (!process.env.KEEP) rmSync(dataDir, { recursive: true, force: true });
  });

  it('raises an SpO2 alarm that reaches the clinician stream and the history store', async () => {
    const live = await openLive(system.relay.httpUrl, system.viewerToken);
    try {
      const isSpo2Alarm = (m: LiveMessage) =>
        m.type === 'alarm' && m.patient.patientId === PATIENT && m.event.event === 'raised' && m.event.rule.startsWith('spo2-');
      const message = await live.waitFor(isSpo2Alarm, 120_000);
      assert.ok(message.type === 'alarm');
      assert.equal(message.event.kind, 'physiological');
      assert.ok(['high', 'medium'].includes(message.event.priority));
    } finally {
      live.close();
    }
    const url = new URL(`/api/v1/patients/${PATIENT}/alarms`, system.relay.httpUrl);
    url.searchParams.set('from', String(Date.now() - 10 * 60_000));
    url.searchParams.set('to', String(Date.now() + 60_000));
    let stored: { rule: string; event: string }[] = [];
    for (let attempt = 0; attempt < 20 && stored.length === 0; attempt++) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${system.viewerToken}` } });
      assert.equal(response.status, 200);
      stored = ((await response.json()) as { events: { rule: string; event: string }[] }).events.filter(
        (e) => e.rule.startsWith('spo2-') && e.event === 'raised',
      );
      if (stored.length === 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(stored.length > 0, 'the raised SpO2 alarm is in the history store');
  });

  it('refuses inconsistent limits with the reason, keeps the previous ones, and accepts valid ones', async () => {
    const refused = await adminPost(system, `/api/v1/admin/gateways/${GATEWAY}/config`, {
      configVersion: 2,
      limits: { 'spo2-low': { limit: 85 }, 'spo2-low-severe': { limit: 90 } },
    });
    assert.equal(refused.status, 202);
    const nack = await configAck(system, 2);
    assert.equal(nack.accepted, false);
    assert.match(nack.reason ?? '', /spo2-low-severe\/limit: 90 must be below the spo2-low limit 85/);

    const accepted = await adminPost(system, `/api/v1/admin/gateways/${GATEWAY}/config`, {
      configVersion: 3,
      limits: { 'spo2-low': { limit: 92 } },
    });
    assert.equal(accepted.status, 202);
    const ack = await configAck(system, 3);
    assert.equal(ack.accepted, true);
  });

  it('refuses a limits document that breaks the contract before it is sent', async () => {
    const response = await adminPost(system, `/api/v1/admin/gateways/${GATEWAY}/config`, {
      configVersion: 4,
      limits: { 'spo2-low': { limit: 'ninety' } },
    });
    assert.equal(response.status, 400);
  });
});
