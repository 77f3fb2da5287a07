/**
 * Enrollment over the relay's HTTP API. An admin asks for a one-time token
 * bound to a gateway id and a patient/bed; the gateway presents it once with
 * its public key; from then on it authenticates to the broker with JWTs
 * signed by the matching private key.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { GATEWAY_ID_PATTERN } from './topics.ts';

export const ENROLLMENT_PATHS = {
  /** Admin (Bearer admin token): create a one-time enrollment token. */
  createEnrollment: '/api/v1/admin/enrollments',
  /** Admin: revoke a gateway; it is disconnected at once and refused afterwards. */
  revokeGateway: '/api/v1/admin/gateways/:gatewayId/revoke',
  /** Gateway: present the token and the public key. */
  enroll: '/api/v1/enroll',
} as const;

export const PatientAssignment = T.Object(
  {
    patientId: T.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
    displayName: T.String({ minLength: 1, maxLength: 80 }),
    bed: T.String({ minLength: 1, maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type PatientAssignment = Static<typeof PatientAssignment>;

export const CreateEnrollmentRequest = T.Object(
  {
    gatewayId: T.String({ pattern: GATEWAY_ID_PATTERN }),
    patient: PatientAssignment,
    ttlSeconds: T.Optional(T.Integer({ minimum: 60, maximum: 7 * 24 * 3600 })),
  },
  { additionalProperties: false },
);
export type CreateEnrollmentRequest = Static<typeof CreateEnrollmentRequest>;

export const CreateEnrollmentResponse = T.Object({
  enrollmentToken: T.String(),
  gatewayId: T.String(),
  expiresAt: T.Integer(),
});
export type CreateEnrollmentResponse = Static<typeof CreateEnrollmentResponse>;

/** The public key as a JWK (EC P-256), as exported by jose's exportJWK. */
export const EnrollRequest = T.Object(
  {
    enrollmentToken: T.String({ minLength: 16, maxLength: 200 }),
    gatewayId: T.String({ pattern: GATEWAY_ID_PATTERN }),
    publicKeyJwk: T.Object(
      {
        kty: T.Literal('EC'),
        crv: T.Literal('P-256'),
        x: T.String({ maxLength: 64 }),
        y: T.String({ maxLength: 64 }),
      },
      { additionalProperties: true },
    ),
  },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequest>;

export const EnrollResponse = T.Object({
  gatewayId: T.String(),
  /** `aud` the gateway must put in its tokens. */
  audience: T.String(),
});
export type EnrollResponse = Static<typeof EnrollResponse>;
