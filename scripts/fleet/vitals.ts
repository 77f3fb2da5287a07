/**
 * Contract-valid vitals messages for simulated gateways. The reading's `t`
 * is the publish instant on the simulator's wall clock, so "stored minus t"
 * is the publish → stored latency when relay and simulator share a clock.
 */
import { encode } from '../../protocol/codec.ts';
import { newId } from '../../protocol/ids.ts';
import { VITALS_UNITS, type VitalsMessage } from '../../protocol/schemas.ts';

export interface VitalsSource {
  gatewayId: string;
  bootId: string;
  seq: number;
  bootMs: number;
  /** Last t used, so two messages of one gateway never share a timestamp. */
  lastT: number;
}

export function newVitalsSource(gatewayId: string, nowMs: number): VitalsSource {
  return { gatewayId, bootId: newId(), seq: 0, bootMs: nowMs, lastT: 0 };
}

/** One reading, plausible values that drift a little per gateway. */
export function nextVitals(source: VitalsSource, nowMs: number): { message: VitalsMessage; payload: Buffer } {
  const t = Math.max(nowMs, source.lastT + 1);
  source.lastT = t;
  const phase = (source.seq % 60) / 60;
  const message: VitalsMessage = {
    v: 1,
    type: 'vitals',
    msgId: newId(),
    gatewayId: source.gatewayId,
    seq: source.seq++,
    clock: { quality: 'synced', bootId: source.bootId },
    units: { ...VITALS_UNITS },
    readings: [
      {
        t,
        mono: t - source.bootMs,
        hr: Math.round(70 + 8 * Math.sin(2 * Math.PI * phase)),
        spo2: 97,
        pi: 2.4,
        sqi: 0.92,
        reasons: [],
      },
    ],
  };
  // The first message of each gateway goes through the contract check; the rest share its shape, and
  // skipping the check keeps simulator CPU for the relay on a machine that runs both.
  const payload = source.seq === 1 ? encode('vitals', message) : Buffer.from(JSON.stringify(message));
  return { message, payload };
}
