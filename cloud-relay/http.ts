/**
 * The relay's one HTTP server (fastify): operations (/healthz, /readyz,
 * /metrics), the enrollment and admin API (protocol/enrollment.ts), viewer
 * tokens, the history read API and the clinician dashboard. Admin and viewer
 * routes live in separate encapsulated plugins, each with its own auth hook,
 * so neither credential opens the other's routes.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { CreateEnrollmentRequest, ENROLLMENT_PATHS, EnrollRequest, PatientAssignment } from '../protocol/enrollment.ts';
import { newId } from '../protocol/ids.ts';
import { GATEWAY_ID_PATTERN } from '../protocol/topics.ts';
import type { RelayBroker } from './broker/broker.ts';
import type { DurableSpool } from './ingest/durable-spool.ts';
import type { Ingest } from './ingest/ingest.ts';
import { bearer } from './live/hub.ts';
import type { RelayMetrics } from './metrics.ts';
import { canView, type DeviceRegistry, EnrollmentError, sameSecret, UnknownGatewayError, type Viewer } from './registry/registry.ts';
import { type HistoryStore, HistoryStoreError } from './store/history-store.ts';

export const VIEWER_PATH = '/api/v1/admin/viewers';
export const READINGS_PATH = '/api/v1/patients/:patientId/readings';
export const ALARMS_PATH = '/api/v1/patients/:patientId/alarms';

const CreateViewerRequest = T.Object(
  {
    name: T.String({ minLength: 1, maxLength: 80 }),
    patientIds: T.Array(T.String({ pattern: '^([A-Za-z0-9._-]{1,64}|\\*)$' }), { minItems: 1, maxItems: 1000, uniqueItems: true }),
  },
  { additionalProperties: false },
);
const GatewayParams = T.Object({ gatewayId: T.String({ pattern: GATEWAY_ID_PATTERN }) });
const PatientParams = T.Object({ patientId: T.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) });
const RangeQuery = T.Object(
  {
    from: T.Integer({ minimum: 0 }),
    to: T.Integer({ minimum: 0 }),
    limit: T.Optional(T.Integer({ minimum: 1, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
const ConfigRequest = T.Object(
  { configVersion: T.Integer({ minimum: 1 }), limits: T.Optional(T.Record(T.String(), T.Unknown())) },
  { additionalProperties: false },
);

export interface HttpDeps {
  registry: DeviceRegistry;
  broker: RelayBroker;
  ingest: Ingest;
  spool: DurableSpool;
  store: HistoryStore;
  metrics: RelayMetrics;
  log: Logger;
  adminToken: string;
  audience: string;
  /** Static files served at `/`, or null. */
  dashboardDir: string | null;
  /** Ready to take traffic: false while starting and shutting down. */
  isReady: () => boolean;
  maxSpoolRows: number;
  storeFailuresInARow: () => number;
  now: () => number;
  /** Serve over HTTPS with this certificate, or plain HTTP when null. */
  https?: { cert: string | Buffer; key: string | Buffer } | null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

export function buildHttp(deps: HttpDeps): FastifyInstance {
  const { registry, broker, metrics, log } = deps;
  const app = Fastify({
    loggerInstance: log.child({ component: 'http' }),
    // Request lines carry patient ids and tokens in query strings; keep them out of the logs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    // Unknown properties are refused, not silently stripped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    ...(deps.https ? { https: { ...deps.https, minVersion: 'TLSv1.2' as const } } : {}),
  });

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number }, _request, reply) => {
    if (error.validation) {
      metrics.reject('http-bad-request');
      return reply.code(400).send({ error: 'bad-request', message: error.message });
    }
    if (error instanceof HistoryStoreError) {
      log.warn({ err: error }, 'history read failed');
      return reply.code(503).send({ error: 'store-unavailable', message: 'the history store cannot answer now; try again' });
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) log.error({ err: error }, 'HTTP handler failed');
    else metrics.reject('http-bad-request');
    return reply
      .code(status)
      .send({ error: status >= 500 ? 'internal' : 'bad-request', message: status >= 500 ? 'internal error' : error.message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const spoolDepth = deps.spool.open ? deps.spool.depth() : -1;
    const storeUp = await withTimeout(deps.store.ping(), 2000).catch(() => false);
    const ready = deps.isReady() && deps.spool.open && spoolDepth < deps.maxSpoolRows;
    // A store outage alone does not make the relay unready: the spool absorbs it.
    return reply.code(ready ? 200 : 503).send({
      ready,
      spoolDepth,
      maxSpoolRows: deps.maxSpoolRows,
      store: storeUp ? 'up' : 'down',
      storeFailuresInARow: deps.storeFailuresInARow(),
      connectedGateways: broker.connectedGateways,
    });
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.post(ENROLLMENT_PATHS.enroll, { schema: { body: EnrollRequest } }, async (request, reply) => {
    const body = request.body as Static<typeof EnrollRequest>;
    try {
      const gateway = await registry.enroll(body.enrollmentToken, body.gatewayId, body.publicKeyJwk);
      log.info({ gatewayId: gateway.gatewayId }, 'gateway enrolled');
      return reply.code(200).send({ gatewayId: gateway.gatewayId, audience: deps.audience });
    } catch (error) {
      if (!(error instanceof EnrollmentError)) throw error;
      metrics.reject('http-unauthorized');
      log.warn({ gatewayId: body.gatewayId, code: error.code }, 'enrollment refused');
      const status = error.code === 'bad-key' ? 400 : error.code === 'gateway-mismatch' ? 403 : 401;
      return reply.code(status).send({ error: error.code, message: error.message });
    }
  });

  app.register(async (admin) => {
    admin.addHook('onRequest', async (request, reply) => {
      const token = bearer(request.headers.authorization);
      if (!token || !sameSecret(token, deps.adminToken)) {
        metrics.reject('http-unauthorized');
        return reply.code(401).send({ error: 'unauthorized', message: 'admin token required' });
      }
    });

    admin.post(ENROLLMENT_PATHS.createEnrollment, { schema: { body: CreateEnrollmentRequest } }, async (request, reply) => {
      const body = request.body as CreateEnrollmentRequest;
      const created = registry.createEnrollment(body.gatewayId, body.patient, body.ttlSeconds);
      log.info({ gatewayId: body.gatewayId, expiresAt: created.expiresAt }, 'enrollment token created');
      return reply.code(201).send(created);
    });

    admin.post(ENROLLMENT_PATHS.revokeGateway, { schema: { params: GatewayParams } }, async (request, reply) => {
      const { gatewayId } = request.params as Static<typeof GatewayParams>;
      try {
        const gateway = registry.revoke(gatewayId);
        log.warn({ gatewayId }, 'gateway revoked');
        return reply.send({ gatewayId, state: gateway.state, revokedAt: gateway.revokedAt });
      } catch (error) {
        if (error instanceof UnknownGatewayError) return reply.code(404).send({ error: 'not-found', message: error.message });
        throw error;
      }
    });

    admin.put(
      '/api/v1/admin/gateways/:gatewayId/patient',
      { schema: { params: GatewayParams, body: PatientAssignment } },
      async (request, reply) => {
        const { gatewayId } = request.params as Static<typeof GatewayParams>;
        try {
          const gateway = registry.assignPatient(gatewayId, request.body as PatientAssignment);
          log.info({ gatewayId, patientId: gateway.patient.patientId }, 'gateway assigned to a patient');
          return reply.send({ gatewayId, patient: gateway.patient });
        } catch (error) {
          if (error instanceof UnknownGatewayError) return reply.code(404).send({ error: 'not-found', message: error.message });
          throw error;
        }
      },
    );

    admin.get('/api/v1/admin/gateways', async () => ({
      gateways: registry.listGateways().map((g) => ({
        gatewayId: g.gatewayId,
        patient: g.patient,
        state: g.state,
        enrolledAt: g.enrolledAt,
        revokedAt: g.revokedAt,
        lastStatus: deps.ingest.gatewayReport(g.gatewayId).status,
      })),
    }));

    admin.get('/api/v1/admin/gateways/:gatewayId/gaps', { schema: { params: GatewayParams } }, async (request) => {
      const { gatewayId } = request.params as Static<typeof GatewayParams>;
      return { gatewayId, sequences: deps.spool.gaps(gatewayId) };
    });

    admin.get(
      '/api/v1/admin/quarantine',
      {
        schema: { querystring: T.Object({ limit: T.Optional(T.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false }) },
      },
      async (request) => ({ quarantined: deps.spool.quarantined((request.query as { limit?: number }).limit ?? 100) }),
    );

    admin.post(
      '/api/v1/admin/gateways/:gatewayId/config',
      { schema: { params: GatewayParams, body: ConfigRequest } },
      async (request, reply) => {
        const { gatewayId } = request.params as Static<typeof GatewayParams>;
        const body = request.body as Static<typeof ConfigRequest>;
        if (!registry.getGateway(gatewayId)) return reply.code(404).send({ error: 'not-found', message: `no gateway "${gatewayId}"` });
        const message = {
          v: 1 as const,
          type: 'config' as const,
          msgId: newId(),
          configVersion: body.configVersion,
          issuedAt: deps.now(),
          ...(body.limits ? { limits: body.limits } : {}),
        };
        try {
          await broker.publishConfig(gatewayId, message as Parameters<RelayBroker['publishConfig']>[1]);
        } catch (error) {
          return reply.code(400).send({ error: 'bad-request', message: (error as Error).message });
        }
        return reply.code(202).send({ gatewayId, msgId: message.msgId, configVersion: message.configVersion });
      },
    );

    admin.delete(
      `${VIEWER_PATH}/:viewerId`,
      { schema: { params: T.Object({ viewerId: T.String({ pattern: '^[0-9a-f]{16}$' }) }) } },
      async (request, reply) => {
        const { viewerId } = request.params as { viewerId: string };
        if (!registry.revokeViewer(viewerId)) return reply.code(404).send({ error: 'not-found', message: 'no such viewer' });
        log.info({ viewerId }, 'viewer token revoked');
        return reply.code(204).send();
      },
    );

    admin.post(VIEWER_PATH, { schema: { body: CreateViewerRequest } }, async (request, reply) => {
      const body = request.body as Static<typeof CreateViewerRequest>;
      const viewer = registry.createViewer(body.name, body.patientIds);
      log.info({ viewerId: viewer.viewerId, patients: body.patientIds.length }, 'viewer token created');
      return reply.code(201).send(viewer);
    });
  });

  app.register(async (viewerRoutes) => {
    viewerRoutes.decorateRequest('viewer', null);
    viewerRoutes.addHook('onRequest', async (request, reply) => {
      const token = bearer(request.headers.authorization);
      const viewer = token ? registry.findViewer(token) : null;
      if (!viewer) {
        metrics.reject('http-unauthorized');
        return reply.code(401).send({ error: 'unauthorized', message: 'viewer token required' });
      }
      (request as FastifyRequest & { viewer: Viewer }).viewer = viewer;
    });

    const range = (request: FastifyRequest, reply: FastifyReply) => {
      const { patientId } = request.params as Static<typeof PatientParams>;
      const viewer = (request as FastifyRequest & { viewer: Viewer }).viewer;
      // Same answer for "not allowed" and "no such patient": ids are not to be probed.
      if (!canView(viewer, patientId)) {
        reply.code(404).send({ error: 'not-found', message: 'no such patient' });
        return null;
      }
      const { from, to, limit } = request.query as Static<typeof RangeQuery>;
      return { patientId, fromMs: from, toMs: to, ...(limit ? { limit } : {}) };
    };

    viewerRoutes.get(READINGS_PATH, { schema: { params: PatientParams, querystring: RangeQuery } }, async (request, reply) => {
      const query = range(request, reply);
      if (!query) return reply;
      return { patientId: query.patientId, readings: await deps.store.queryReadings(query) };
    });

    viewerRoutes.get(ALARMS_PATH, { schema: { params: PatientParams, querystring: RangeQuery } }, async (request, reply) => {
      const query = range(request, reply);
      if (!query) return reply;
      return { patientId: query.patientId, events: await deps.store.queryAlarmEvents(query) };
    });
  });

  if (deps.dashboardDir) {
    const root = resolve(deps.dashboardDir);
    const serve = async (file: string, reply: FastifyReply) => {
      const path = resolve(join(root, file));
      if (path !== root && !path.startsWith(root + sep)) return reply.code(404).send({ error: 'not-found' });
      try {
        const body = await readFile(path);
        return reply
          .type(CONTENT_TYPES[extname(path)] ?? 'application/octet-stream')
          .header('cache-control', 'no-cache')
          .send(body);
      } catch {
        return reply.code(404).send({ error: 'not-found' });
      }
    };
    app.get('/', (_request, reply) => serve('index.html', reply));
    app.get(
      '/:file',
      { schema: { params: T.Object({ file: T.String({ pattern: '^[A-Za-z0-9_-][A-Za-z0-9._-]*$' }) }) } },
      (request, reply) => serve((request.params as { file: string }).file, reply),
    );
  }

  return app as unknown as FastifyInstance;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolvePromise(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
