/** Test helpers for the dashboard WebSocket stream. */
import WebSocket from 'ws';
import type { LiveMessage } from '../../protocol/live.ts';

export interface LiveClient {
  messages: LiveMessage[];
  /** Resolves with the first message (already received or future) that matches. */
  waitFor(match: (m: LiveMessage) => boolean, timeoutMs?: number): Promise<LiveMessage>;
  close(): void;
}

export async function openLive(httpUrl: string, viewerToken: string): Promise<LiveClient> {
  const url = new URL('/live', httpUrl.replace(/^http/, 'ws'));
  url.searchParams.set('token', viewerToken);
  const socket = new WebSocket(url);
  const messages: LiveMessage[] = [];
  const waiters: { match: (m: LiveMessage) => boolean; resolve: (m: LiveMessage) => void }[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as LiveMessage;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`live stream refused: HTTP ${res.statusCode}`)));
  });
  return {
    messages,
    waitFor(match, timeoutMs = 60_000) {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching live message within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          match,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    close: () => socket.close(),
  };
}
