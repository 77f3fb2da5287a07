/**
 * `scripts/start.sh`: the relay, three emulated gateways and the dashboard on
 * embedded defaults. Ctrl-C stops everything cleanly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_PATIENTS } from './demo-patients.ts';
import { startSystem } from './system.ts';

const keepData = process.env.VIGIL_DATA_DIR !== undefined;
const dataDir = process.env.VIGIL_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'vigil-'));
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

let system: Awaited<ReturnType<typeof startSystem>>;
try {
  system = await startSystem({
    dataDir,
    patients: DEMO_PATIENTS,
    httpPort: port('VIGIL_HTTP_PORT', 8080),
    mqttPort: port('VIGIL_MQTT_PORT', 1883),
  });
} catch (error) {
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  console.error(
    inUse
      ? `vigil: ${(error as Error).message}; another program holds the port. Choose others, e.g. VIGIL_HTTP_PORT=18080 VIGIL_MQTT_PORT=11883 ./scripts/start.sh`
      : `vigil: could not start: ${(error as Error).message}`,
  );
  if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  process.exit(1);
}

console.log(`
Vigil is running: relay, ${DEMO_PATIENTS.length} emulated gateways, dashboard.

  Dashboard:      ${system.dashboardUrl}
  Viewer token:   ${system.viewerToken}   (sees ${DEMO_PATIENTS.map((p) => p.displayName).join(', ')})
  Admin token:    ${system.relay.adminToken}
  MQTT broker:    ${system.relay.mqttUrl}
  Gateway logs:   ${system.logDir}

Press Ctrl-C to stop.`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping gateways and relay…`);
  await system.stop();
  if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  console.log('stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

for (const [gatewayId, child] of system.gateways) {
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`gateway ${gatewayId} exited (${signal ?? code}); see ${join(system.logDir, `${gatewayId}.log`)}`);
  });
}
