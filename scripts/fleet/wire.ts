/** Messages between the fleet orchestrator and its worker processes (IPC). */
import type { PatientAssignment } from '../../protocol/enrollment.ts';

export interface WorkerPlan {
  httpUrl: string;
  mqttUrl: string;
  adminToken: string;
  audience?: string;
  gateways: Array<{ gatewayId: string; patient: PatientAssignment }>;
  /** False when the gateways are enrolled already (a second run against the same relay). */
  enroll: boolean;
  enrollConcurrency: number;
  /** This worker's share of the fleet's connection rate. */
  connectsPerSecond: number;
  periodMs: number;
}

export type ParentMessage =
  | { type: 'start'; plan: WorkerPlan }
  | { type: 'publish' }
  | { type: 'period'; periodMs: number }
  | { type: 'stop'; drainMs: number };

export interface SparseHistogram {
  buckets: Array<[number, number]>;
  overflow: number;
  max: number;
}

export interface WorkerStats {
  counters: { published: number; acked: number; failed: number; reconnects: number; errors?: Record<string, number> };
  connected: number;
  inflight: number;
  /** PUBACK latency since the previous report. */
  ackLatency: SparseHistogram;
}

export type WorkerMessage =
  | { type: 'enrolled'; count: number }
  | { type: 'connected'; count: number }
  | ({ type: 'stats' } & WorkerStats)
  | ({ type: 'final' } & WorkerStats)
  | { type: 'error'; message: string };
