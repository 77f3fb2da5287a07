/**
 * Gateway process entry: `npm run gateway -- [--config FILE]`, configuration
 * otherwise from VIGIL_* variables (gateway/config.ts).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError, loadGatewayConfig } from './config.ts';
import { GatewayStartError, startGateway } from './gateway.ts';
import { systemdNotifier } from './systemd.ts';

const { values } = parseArgs({ options: { config: { type: 'string' } }, allowPositionals: false });

let config: ReturnType<typeof loadGatewayConfig>;
try {
  config = loadGatewayConfig({ file: values.config ?? process.env.VIGIL_GATEWAY_CONFIG });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`vigil-gateway: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

const log = pino({ level: config.logLevel, base: { service: 'vigil-gateway', gatewayId: config.gatewayId } });
const systemd = systemdNotifier();

let gateway: Awaited<ReturnType<typeof startGateway>>;
try {
  gateway = await startGateway(config, { log });
} catch (error) {
  log.fatal({ err: error }, 'gateway could not start');
  // A configuration problem will not fix itself: exit 2 so systemd's RestartPreventExitStatus can stop a crash loop.
  process.exit(error instanceof GatewayStartError ? 2 : 1);
}
systemd.ready();
systemd.status('measuring');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  systemd.close();
  await gateway.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// Never let one bad callback take the alarm path down silently: log it and keep measuring.
process.on('uncaughtException', (error) => log.error({ err: error }, 'uncaught exception'));
process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
