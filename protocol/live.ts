/**
 * Relay → dashboard WebSocket messages. The relay only sends a patient's data
 * to a dashboard session allowed to see that patient.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { AlarmEvent, Reading } from './schemas.ts';

const PatientRef = T.Object({
  patientId: T.String(),
  displayName: T.String(),
  bed: T.String(),
  gatewayId: T.String(),
});
export type PatientRef = Static<typeof PatientRef>;

export const LiveVitals = T.Object({ type: T.Literal('vitals'), patient: PatientRef, reading: Reading });
export const LiveAlarm = T.Object({ type: T.Literal('alarm'), patient: PatientRef, event: AlarmEvent });
export const LiveGatewayState = T.Object({
  type: T.Literal('gateway'),
  patient: PatientRef,
  state: T.Union([T.Literal('online'), T.Literal('offline')]),
  t: T.Integer(),
});
export const LiveSnapshot = T.Object({
  type: T.Literal('snapshot'),
  patients: T.Array(T.Object({ patient: PatientRef, latest: T.Union([Reading, T.Null()]), online: T.Boolean() })),
});
export const LiveMessage = T.Union([LiveVitals, LiveAlarm, LiveGatewayState, LiveSnapshot]);
export type LiveMessage = Static<typeof LiveMessage>;
