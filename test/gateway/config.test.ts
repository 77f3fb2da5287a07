import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadGatewayConfig } from '../../gateway/config.ts';

const minimal = {
  VIGIL_GATEWAY_ID: 'gw-bed-01',
  VIGIL_DATA_DIR: '/var/lib/vigil',
  VIGIL_RELAY_HTTP_URL: 'http://127.0.0.1:8080',
  VIGIL_RELAY_MQTT_URL: 'mqtt://127.0.0.1:1883',
};

describe('gateway config', () => {
  it('builds a config from the environment and fills the documented defaults', () => {
    const config = loadGatewayConfig({ env: minimal });
    assert.equal(config.gatewayId, 'gw-bed-01');
    assert.equal(config.sensor.mode, 'auto');
    assert.equal(config.signal.calibration, 'max30102');
    assert.equal(config.logLevel, 'info');
  });

  it('lets the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ gatewayId: 'gw-from-file', dataDir: '/d', relay: { httpUrl: 'http://h', mqttUrl: 'mqtt://h' } }));
    assert.equal(loadGatewayConfig({ file, env: {} }).gatewayId, 'gw-from-file');
    assert.equal(loadGatewayConfig({ file, env: { VIGIL_GATEWAY_ID: 'gw-from-env' } }).gatewayId, 'gw-from-env');
  });

  it('names the bad key', () => {
    assert.throws(() => loadGatewayConfig({ env: { ...minimal, VIGIL_RELAY_MQTT_URL: 'ftp://x' } }), /at relay\.mqttUrl/);
    assert.throws(() => loadGatewayConfig({ env: { ...minimal, VIGIL_GATEWAY_ID: 'Bed 1' } }), /at gatewayId/);
    assert.throws(() => loadGatewayConfig({ env: minimal, overrides: { 'sensor.colour': 'red' } }), /at sensor: unknown key "colour"/);
  });

  it('explains an unreadable or malformed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "gatewayId": ');
    assert.throws(
      () => loadGatewayConfig({ file, env: {} }),
      (error: unknown) => error instanceof ConfigError && /is not JSON/.test(error.message),
    );
    assert.throws(() => loadGatewayConfig({ file: join(dir, 'missing.json'), env: {} }), /cannot read config file/);
  });
});
