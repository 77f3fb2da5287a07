import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../../gateway/clock/index.ts';
import { Outbox } from '../../../gateway/outbox/index.ts';
import { EnrollmentError, enrollGateway, PRIVATE_KEY_FILE, readEnrollment, startUplink } from '../../../gateway/uplink/index.ts';
import { startTestRelay, type TestRelay } from '../../e2e/reliability/support.ts';
import { freePort } from '../../helpers/mosquitto.ts';
import { reading, silentLog } from '../outbox/samples.ts';
import { until } from './test-broker.ts';

describe('enrollment against the relay', () => {
  let dir: string;
  let relay: TestRelay;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-enroll-'));
    relay = await startTestRelay(join(dir, 'relay'));
  });
  after(async () => {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the generated key once, remembers the audience, then authenticates over MQTT with it', async () => {
    const keyDir = join(dir, 'gw-a');
    assert.equal(readEnrollment(keyDir), null);
    const enrollmentToken = await relay.createEnrollmentToken('gw-enroll-a', 'p-enroll-a');
    const { audience } = await enrollGateway({ relayHttpUrl: relay.httpUrl, enrollmentToken, gatewayId: 'gw-enroll-a', keyDir });
    assert.equal(audience, 'vigil-relay');
    assert.equal(readEnrollment(keyDir)?.audience, 'vigil-relay');
    assert.equal(statSync(join(keyDir, PRIVATE_KEY_FILE)).mode & 0o777, 0o600);
    assert.doesNotMatch(
      readFileSync(join(keyDir, 'enrollment.json'), 'utf8'),
      new RegExp(enrollmentToken),
      'the one-time token is not kept',
    );

    const clock = systemClock({ assumeSynced: true });
    const outbox = Outbox.open({ path: join(keyDir, 'outbox.db'), gatewayId: 'gw-enroll-a', clock, log: silentLog });
    const now = Date.now();
    outbox.enqueueVitals([reading(0, { t: now, mono: clock.monoMs() })]);
    const uplink = startUplink({ gatewayId: 'gw-enroll-a', mqttUrl: relay.mqttUrl, audience, keyDir, outbox, clock });
    try {
      await until(() => outbox.stats().rows === 0, 'the reading accepted by the relay');
      assert.equal((await relay.outcomes('vitals')).accepted, 1);
    } finally {
      await uplink.close();
      outbox.close();
    }
  });

  it('refuses a used token with the relay’s reason', async () => {
    const enrollmentToken = await relay.createEnrollmentToken('gw-enroll-b', 'p-enroll-b');
    await enrollGateway({ relayHttpUrl: relay.httpUrl, enrollmentToken, gatewayId: 'gw-enroll-b', keyDir: join(dir, 'gw-b') });
    await assert.rejects(
      enrollGateway({ relayHttpUrl: relay.httpUrl, enrollmentToken, gatewayId: 'gw-enroll-b', keyDir: join(dir, 'gw-b') }),
      (error: unknown) => error instanceof EnrollmentError && error.status === 401 && /enrollment refused/.test(error.message),
    );
  });

  it('says clearly when the relay cannot be reached', async () => {
    const port = await freePort();
    await assert.rejects(
      enrollGateway({
        relayHttpUrl: `http://127.0.0.1:${port}`,
        enrollmentToken: 'x'.repeat(32),
        gatewayId: 'gw-enroll-c',
        keyDir: join(dir, 'gw-c'),
      }),
      /cannot reach the relay/,
    );
  });
});
