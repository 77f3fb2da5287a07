/**
 * The gateway composed, with no network at all: an alarm still sounds
 * locally and is stored for later delivery, and a restart keeps the latched
 * alarm instead of silently dropping it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { type AlarmOutputs, MemoryGpioInput, MemoryGpioOutput, openSensor } from '../../firmware-bridge/index.ts';
import { loadGatewayConfig } from '../../gateway/config.ts';
import { GatewayStartError, type RunningGateway, startGateway } from '../../gateway/gateway.ts';

const log = pino({ level: 'silent' });

function offlineConfig(dataDir: string) {
  // Already enrolled; the relay's port refuses connections, so the uplink stays down.
  writeFileSync(
    join(dataDir, 'enrollment.json'),
    JSON.stringify({ gatewayId: 'gw-offline-01', audience: 'vigil-relay', relayHttpUrl: 'http://127.0.0.1:9', enrolledAt: 0 }),
  );
  return loadGatewayConfig({
    env: {
      VIGIL_GATEWAY_ID: 'gw-offline-01',
      VIGIL_DATA_DIR: dataDir,
      VIGIL_RELAY_HTTP_URL: 'http://127.0.0.1:9',
      VIGIL_RELAY_MQTT_URL: 'mqtt://127.0.0.1:9',
      VIGIL_SENSOR_MODE: 'emulator',
    },
  });
}

async function until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function outputs(): AlarmOutputs & { led: MemoryGpioOutput; buzzer: MemoryGpioOutput; button: MemoryGpioInput } {
  return { led: new MemoryGpioOutput(), buzzer: new MemoryGpioOutput(), button: new MemoryGpioInput(1, 'both'), kind: 'memory' };
}

describe('gateway without a network', () => {
  it('raises a severe SpO2 alarm locally, stores it for the relay, and still has it after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-gateway-'));
    const config = offlineConfig(dataDir);
    const hypoxic = await openSensor({
      mode: 'emulator',
      emulate: { scenario: { name: 'hypoxic', seed: 9, initial: { hrBpm: 75, spo2: 80, perfusionIndex: 2 } } },
    });
    const firstOutputs = outputs();
    let gateway: RunningGateway = await startGateway(config, { log, sensor: hypoxic, outputs: firstOutputs });
    let alarmId: string;
    try {
      const alarm = await until(() => gateway.engine.active().find((a) => a.rule === 'spo2-low-severe'), 60_000, 'spo2-low-severe');
      alarmId = alarm.alarmId;
      assert.equal(alarm.priority, 'high');
      assert.equal(gateway.uplink.connected(), false);
      // The LED shows it without any network.
      await until(() => (firstOutputs.led.writes.some((w) => w === 1) ? true : undefined), 5_000, 'the alarm LED');
      const stored = gateway.outbox.take(100).filter((entry) => entry.kind === 'alarms');
      assert.ok(stored.length > 0, 'the alarm event waits in the outbox');
      assert.match(String(stored[0]?.payload), new RegExp(alarmId));
    } finally {
      await gateway.close();
    }

    // Restart on a now well-oxygenated patient: the high-priority alarm is latched until acknowledged.
    const recovered = await openSensor({
      mode: 'emulator',
      emulate: { scenario: { name: 'recovered', seed: 9, initial: { hrBpm: 75, spo2: 97, perfusionIndex: 2 } } },
    });
    const restartOutputs = outputs();
    gateway = await startGateway(config, { log, sensor: recovered, outputs: restartOutputs });
    try {
      const restored = gateway.engine.active().find((a) => a.rule === 'spo2-low-severe');
      assert.equal(restored?.alarmId, alarmId, 'the same alarm, kept across the restart');
      assert.equal(restored?.acknowledged, false);
      // A short press of the bedside button acknowledges it, with no network.
      restartOutputs.button.set(0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      restartOutputs.button.set(1);
      await until(
        () => (gateway.engine.active().find((a) => a.alarmId === alarmId)?.acknowledged !== false ? true : undefined),
        5_000,
        'the alarm to be acknowledged',
      );
      const stored = gateway.outbox
        .take(1000)
        .filter((entry) => entry.kind === 'alarms')
        .map((entry) => String(entry.payload));
      assert.ok(
        stored.some((payload) => payload.includes(alarmId) && payload.includes('"event":"acknowledged"')),
        'the acknowledgement is stored for the relay',
      );
    } finally {
      await gateway.close();
    }
  });

  it('refuses to start unenrolled without a token, with a message that says what to do', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-gateway-'));
    const config = loadGatewayConfig({
      env: {
        VIGIL_GATEWAY_ID: 'gw-new-01',
        VIGIL_DATA_DIR: dataDir,
        VIGIL_RELAY_HTTP_URL: 'http://127.0.0.1:9',
        VIGIL_RELAY_MQTT_URL: 'mqtt://127.0.0.1:9',
        VIGIL_SENSOR_MODE: 'emulator',
      },
    });
    await assert.rejects(
      startGateway(config, { log, outputs: outputs() }),
      (error: unknown) => error instanceof GatewayStartError && /VIGIL_ENROLLMENT_TOKEN/.test(error.message),
    );
  });
});
