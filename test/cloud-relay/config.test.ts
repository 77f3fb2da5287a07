import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadRelayConfig, toRelayConfig } from '../../cloud-relay/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-relay-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('defaults run with no file and no environment', () => {
  const config = loadRelayConfig({ env: {} });
  assert.equal(config.dataDir, '.data/relay');
  assert.equal(config.logLevel, 'info');
  assert.equal(config.host, undefined, 'startRelay then listens on 127.0.0.1');
});

test('the environment overrides the file', () => {
  const file = join(dir, 'relay.json');
  writeFileSync(file, JSON.stringify({ dataDir: '/var/lib/vigil', httpPort: 8080, limits: { maxPacketBytes: 65536 } }));
  const config = loadRelayConfig({ file, env: { VIGIL_HTTP_PORT: '9090', VIGIL_TLS_CERT_FILE: '/c.pem', VIGIL_TLS_KEY_FILE: '/k.pem' } });
  assert.equal(config.httpPort, 9090);
  assert.equal(config.dataDir, '/var/lib/vigil');
  assert.deepEqual(config.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
  assert.equal(toRelayConfig(config).limits?.maxPacketBytes, 65536);
});

test('InfluxDB is configured from the environment', () => {
  const config = loadRelayConfig({
    env: { VIGIL_INFLUX_URL: 'http://influx:8086', VIGIL_INFLUX_DATABASE: 'vigil', VIGIL_INFLUX_WRITE_API: 'v1' },
  });
  assert.deepEqual(config.store, { influxdb: { url: 'http://influx:8086', database: 'vigil', writeApi: 'v1' } });
});

test('errors name the bad key', () => {
  const file = join(dir, 'bad.json');
  const cases: Array<[unknown, Record<string, string>, RegExp]> = [
    [{ httpPort: 70000 }, {}, /httpPort/],
    [{ limits: { maxPackteBytes: 1 } }, {}, /limits.*unknown key "maxPackteBytes"/],
    [{}, { VIGIL_MQTT_PORT: 'eighty' }, /VIGIL_MQTT_PORT/],
    [{ mqttTlsPort: 8883 }, {}, /mqttTlsPort: needs tls/],
    [{ logLevel: 'loud' }, {}, /logLevel/],
    [
      { store: { influxdb: { url: 'http://influx:8086', database: 'vigil', retentionPolcy: 'x' } } },
      {},
      /store.influxdb.*unknown key "retentionPolcy"/,
    ],
  ];
  for (const [content, env, message] of cases) {
    writeFileSync(file, JSON.stringify(content));
    assert.throws(
      () => loadRelayConfig({ file, env }),
      (e: Error) => e instanceof ConfigError && message.test(e.message),
      JSON.stringify(content),
    );
  }
  writeFileSync(file, '{ nope');
  assert.throws(() => loadRelayConfig({ file, env: {} }), /not JSON/);
  assert.throws(() => loadRelayConfig({ file: join(dir, 'missing.json'), env: {} }), /cannot read config file/);
});
