/**
 * A gateway process the reliability tests can kill -9: it enqueues readings
 * as fast as the outbox commits them ("enqueue"), or drains the outbox to a
 * relay ("drain"). Progress goes to stdout with writeSync, so a line printed
 * is a line the parent sees even if the process dies right after.
 */
import { writeSync } from 'node:fs';
import { systemClock } from '../../../gateway/clock/index.ts';
import { Outbox } from '../../../gateway/outbox/index.ts';
import { startUplink } from '../../../gateway/uplink/index.ts';
import { alarmEvent, reading, silentLog } from '../../gateway/outbox/samples.ts';

interface ChildConfig {
  mode: 'enqueue' | 'drain';
  path: string;
  gatewayId: string;
  keyDir?: string;
  mqttUrl?: string;
  audience?: string;
}

const config = JSON.parse(process.env.VIGIL_CHILD ?? '{}') as ChildConfig;
const say = (line: string) => writeSync(1, `${line}\n`);
const clock = systemClock({ assumeSynced: true });
const outbox = Outbox.open({ path: config.path, gatewayId: config.gatewayId, clock, log: silentLog });
say(`open rows=${outbox.stats().rows}`);

if (config.mode === 'enqueue') {
  for (let i = 0; ; i++) {
    outbox.enqueueVitals([reading(i)]);
    say(`committed vitals ${i}`);
    if (i % 10 === 0) {
      outbox.enqueueAlarms([alarmEvent(i, { message: `alarm ${i}` })]);
      say(`committed alarm ${i}`);
    }
  }
} else {
  const uplink = startUplink({
    gatewayId: config.gatewayId,
    mqttUrl: config.mqttUrl as string,
    audience: config.audience as string,
    keyDir: config.keyDir as string,
    outbox,
    clock,
    backoff: { baseMs: 50, capMs: 300 },
  });
  const timer = setInterval(() => {
    say(`acked ${outbox.stats().acked} rows ${outbox.stats().rows}`);
    if (outbox.stats().rows === 0) {
      clearInterval(timer);
      say('drained');
      void uplink.close().then(() => {
        outbox.close();
        process.exit(0);
      });
    }
  }, 20);
}
