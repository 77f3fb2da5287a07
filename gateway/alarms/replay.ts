/**
 * Runs a recording through the same signal pipeline and alarm engine as the
 * gateway, in emulated time: the engine's clock is the sample clock, so an
 * hour of recording replays in well under a second and the result does not
 * depend on the machine.
 */
import type { AlarmEvent } from '../../protocol/schemas.ts';
import { type SampledRecording, VitalsPipeline } from '../signal/index.ts';
import { AlarmEngine } from './engine.ts';
import type { VitalsEstimate } from './vitals.ts';

export interface ReplayOptions {
  calibration?: string;
  /** Per-patient limits document; the documented defaults without it. */
  limits?: unknown;
  /** Called with every estimate, before the engine sees it (benchmarks compare against it). */
  onEstimate?: (estimate: VitalsEstimate) => void;
  /**
   * A nurse who acknowledges every alarm this many seconds after it is
   * raised (benchmarks over looping scenarios); nobody acknowledges without it.
   */
  acknowledgeAfterS?: number;
}

export interface ReplayResult {
  events: AlarmEvent[];
  estimates: number;
  durationS: number;
}

/** Feeds every sample to the pipeline and every estimate to the engine, at the estimate's own time. */
export function replayRecording(recording: SampledRecording, options: ReplayOptions = {}): ReplayResult {
  const pipeline = new VitalsPipeline({ rateHz: recording.rateHz, calibration: options.calibration });
  // Emulated time has no wall clock: the event's t is its stream time.
  const engine = new AlarmEngine({ limits: options.limits, wallClock: (mono) => mono });
  const n = Math.max(recording.red?.length ?? 0, recording.ir?.length ?? 0);
  const events: AlarmEvent[] = [];
  let estimates = 0;
  const ackAfterMs = options.acknowledgeAfterS === undefined ? null : options.acknowledgeAfterS * 1000;
  for (let i = 0; i < n; i++) {
    const estimate = pipeline.push(
      recording.red ? (recording.red[i] as number) : Number.NaN,
      recording.ir ? (recording.ir[i] as number) : Number.NaN,
    );
    if (!estimate) continue;
    estimates++;
    options.onEstimate?.(estimate);
    const nowMs = Math.round(estimate.t * 1000);
    events.push(...engine.observeVitals(estimate, nowMs));
    if (ackAfterMs === null) continue;
    for (const alarm of engine.active()) {
      if (alarm.acknowledged || nowMs - alarm.raisedMs < ackAfterMs) continue;
      const ack = engine.acknowledge(alarm.alarmId, nowMs);
      if (ack.ok) events.push(...ack.events);
    }
  }
  return { events, estimates, durationS: n / recording.rateHz };
}
