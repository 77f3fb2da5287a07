/**
 * `npm run relay`: starts the relay from a JSON config file (first argument or
 * VIGIL_RELAY_CONFIG) and VIGIL_* environment. SIGINT/SIGTERM shut it down
 * gracefully: gateways are disconnected (their outboxes keep what was not
 * acknowledged) and the spool is drained into the history store.
 */
import { ConfigError, loadRelayConfig, toRelayConfig } from './config.ts';
import { createLogger, startRelay } from './relay.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadRelayConfig>;
  try {
    config = loadRelayConfig({ file: process.argv[2] });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`vigil relay: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const relay = await startRelay({ ...toRelayConfig(config), log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    relay.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('uncaughtException', (error) => {
    // Stored data is safe on disk; log and let the supervisor restart the process.
    log.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`vigil relay: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
