/**
 * Against the real relay, which closes a session when its token expires: the
 * gateway reconnects with a fresh token before that, repeatedly, while it
 * keeps sending; nothing is lost or accepted twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startUplink } from '../../../gateway/uplink/index.ts';
import { reading } from '../../gateway/outbox/samples.ts';
import { until } from '../../gateway/uplink/test-broker.ts';
import { enrolledGateway, startTestRelay } from './support.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('device token expiry against the relay', () => {
  it('renews the token before the relay would close the session, without losing or repeating a message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-token-'));
    dirs.push(dir);
    const relay = await startTestRelay(join(dir, 'relay'));
    const gatewayId = 'gw-token-01';
    const { keyDir, audience, clock, outbox } = await enrolledGateway(relay, dir, gatewayId, 'p-token-01');
    // 2 s tokens renewed at half their life: three renewals in about 4 s.
    const uplink = startUplink({
      gatewayId,
      mqttUrl: relay.mqttUrl,
      audience,
      keyDir,
      outbox,
      clock,
      token: { lifetimeS: 2, renewAtFraction: 0.5 },
    });
    const base = Date.now() - 3600_000;
    let sent = 0;
    try {
      await until(
        () => {
          outbox.enqueueVitals([reading(sent, { t: base + sent * 1000 })]);
          sent += 1;
          return uplink.stats().tokenRenewals >= 3;
        },
        'three token renewals',
        30_000,
      );
      await until(() => outbox.stats().rows === 0, 'everything delivered');
      assert.equal((await relay.outcomes('vitals')).accepted, sent, 'each message accepted once');
      assert.ok(uplink.stats().connects >= 4);
      assert.equal(uplink.stats().failures, 0, 'no session ever ran into its expiry or a refusal');
    } finally {
      await uplink.close();
      outbox.close();
      await relay.stop();
    }
  });
});
