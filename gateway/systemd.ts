/**
 * systemd notify: READY=1 once the gateway measures, a watchdog ping while the
 * event loop turns, STATUS= for `systemctl status`. Does nothing when
 * NOTIFY_SOCKET is unset (not under systemd) or sd-notify is not installed.
 */
import { createRequire } from 'node:module';

interface SdNotify {
  ready(): void;
  watchdog(): void;
  sendStatus(text: string): void;
  stopping?(): void;
}

export interface SystemdNotifier {
  ready(): void;
  status(text: string): void;
  close(): void;
}

function loadSdNotify(): SdNotify | undefined {
  try {
    return createRequire(import.meta.url)('sd-notify') as SdNotify;
  } catch {
    return undefined;
  }
}

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env): SystemdNotifier {
  const sd = env.NOTIFY_SOCKET ? loadSdNotify() : undefined;
  if (!sd) return { ready() {}, status() {}, close() {} };
  // WATCHDOG_USEC is set by systemd when the unit has WatchdogSec=; ping at half of it.
  const watchdogUs = Number(env.WATCHDOG_USEC ?? 0);
  const timer = watchdogUs > 0 ? setInterval(() => sd.watchdog(), Math.max(500, watchdogUs / 2000)) : undefined;
  timer?.unref();
  return {
    ready: () => sd.ready(),
    status: (text) => sd.sendStatus(text),
    close: () => clearInterval(timer),
  };
}
