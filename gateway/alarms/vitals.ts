/**
 * What the alarm engine consumes from the signal layer and from the rest of
 * the gateway. Kept narrow so the engine stays pure and testable with
 * synthetic streams.
 */
import type { VitalsEstimate as PipelineEstimate } from '../signal/index.ts';

/**
 * One estimate per second from the signal pipeline (gateway/signal): only the
 * fields the alarm rules read, so synthetic streams in tests stay short. A
 * value is null when the pipeline does not trust it; `sqi` is 0–1.
 */
export type VitalsEstimate = Pick<PipelineEstimate, 't' | 'hr' | 'spo2' | 'pi' | 'sqi'> & {
  reasons: readonly PipelineEstimate['reasons'][number][];
};

/** Sensor state as the MAX30102 driver reports it (firmware-bridge). */
export type SensorState = 'ok' | 'finger-off' | 'fault' | 'starting';

/**
 * Technical inputs from the driver, the outbox and the uplink. Each field is
 * optional: an observation updates only what it carries.
 */
export interface TechnicalObservation {
  sensor?: { state: SensorState; cause?: string };
  /** Cumulative count of FIFO overflow bursts seen by the driver; a decrease means the driver restarted. */
  overflowCount?: number;
  /** Outbox fill ratio, 0–1. */
  storageFill?: number;
  /** Monotonic ms since which the uplink has been down; null while connected. */
  uplinkDownSinceMs?: number | null;
}
