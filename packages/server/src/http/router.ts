import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { syncError } from '@syncline/protocol';
import type { Principal } from '../auth/auth.js';
import { failureOf } from '../ops/failure.js';
import { isOriginAllowed } from '../transport/origin.js';
import { serveChanges } from './changes-endpoint.js';
import { authenticateRequest } from './http-auth.js';
import type { HttpContext } from './http-context.js';
import { sendError, sendJson } from './http-response.js';
import { serveWrite, serveWriterState } from './mutations-endpoint.js';
import { serveQuery } from './query-endpoint.js';

/** Answers one request on a known route; `principal` is set on authenticated routes. */
type Serve = (
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  principal: Principal | undefined,
) => Promise<void>;

interface Route {
  /** The route's metric label. */
  readonly name: string;
  readonly methods: readonly string[];
  /** Authenticated through the `authenticate` hook (bearer token), and origin-checked. */
  readonly api: boolean;
  readonly serve: Serve;
}

const sameToken = (given: string, expected: string): boolean =>
  timingSafeEqual(
    createHash('sha256').update(given).digest(),
    createHash('sha256').update(expected).digest(),
  );

const ROUTES: Readonly<Record<string, Route>> = {
  '/healthz': {
    name: 'healthz',
    methods: ['GET', 'HEAD'],
    api: false,
    serve: async (ctx, _req, res) => sendJson(res, 200, ctx.liveness()),
  },
  '/readyz': {
    name: 'readyz',
    methods: ['GET', 'HEAD'],
    api: false,
    serve: async (ctx, _req, res) => {
      const report = await ctx.readiness();
      sendJson(res, report.status === 'ok' ? 200 : 503, report);
    },
  },
  '/metrics': {
    name: 'metrics',
    methods: ['GET'],
    api: false,
    serve: async (ctx, req, res) => {
      const token = ctx.metricsAccess === false ? undefined : ctx.metricsAccess.token;
      if (token !== undefined) {
        const given = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
        if (given === undefined || !sameToken(given, token)) {
          return sendError(res, syncError('unauthenticated', 'this endpoint needs the metrics bearer token'));
        }
      }
      const { contentType, body } = await ctx.metrics.scrape();
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
    },
  },
  '/v1/changes': {
    name: 'changes',
    methods: ['GET'],
    api: true,
    serve: (ctx, req, res, url, principal) => serveChanges(ctx, req, res, url, principal!),
  },
  '/v1/mutations': {
    name: 'mutations',
    methods: ['POST'],
    api: true,
    serve: (ctx, req, res, _url, principal) => serveWrite(ctx, req, res, principal!),
  },
  '/v1/mutations/state': {
    name: 'mutations_state',
    methods: ['GET'],
    api: true,
    serve: (ctx, _req, res, url, principal) => serveWriterState(ctx, res, url, principal!),
  },
  '/v1/query': {
    name: 'query',
    methods: ['POST'],
    api: true,
    serve: (ctx, req, res, _url, principal) => serveQuery(ctx, req, res, principal!),
  },
};

/** Every path Syncline answers over plain HTTP (Socket.IO's own path aside). */
export const HTTP_ROUTES: readonly string[] = Object.keys(ROUTES);

/**
 * Syncline's HTTP routes: `/healthz` (liveness), `/readyz` (readiness), `/metrics`
 * (Prometheus), and the integration API under `/v1` — the change feed (`GET /v1/changes`) and
 * server-side writes (`POST /v1/mutations`, `GET /v1/mutations/state`) and read-through
 * queries (`POST /v1/query`).
 *
 * API routes check the Origin like sockets do (closed by default), then authenticate through the
 * `authenticate` hook (`Authorization: Bearer <token>`, 401 when refused) and authorize per scope
 * (403). Every refusal is `{ ok: false, error: { code, message, retryable } }`.
 *
 * The returned function answers and returns true for Syncline's paths, and returns false without
 * touching the response for any other path, so an app can mount it in front of its own handler.
 */
export function createHttpHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Own properties only: a path never resolves to a member of Object.prototype.
    const route = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
    if (!route || (route.name === 'metrics' && ctx.metricsAccess === false)) return false;
    res.once('close', () => ctx.metrics.http.inc({ route: route.name, status: String(res.statusCode) }));
    const method = req.method ?? 'GET';
    if (!route.methods.includes(method)) {
      req.resume();
      sendError(res, syncError('unknown_route', `${method} is not allowed on ${url.pathname}`), {
        status: 405,
        headers: { allow: route.methods.join(', ') },
      });
      return true;
    }
    const serve = async () => {
      let principal: Principal | undefined;
      if (route.api) {
        if (!isOriginAllowed(req, ctx.origins)) {
          req.resume();
          return sendError(
            res,
            syncError('origin_not_allowed', `origin ${String(req.headers.origin)} is not allowed`),
          );
        }
        if (ctx.closing.aborted) {
          req.resume();
          return sendError(res, syncError('shutting_down', 'server is shutting down'));
        }
        const auth = await authenticateRequest(ctx.auth, ctx.clock, req);
        if (!auth.ok) {
          req.resume();
          return sendError(res, auth.error);
        }
        principal = auth.value;
      }
      await route.serve(ctx, req, res, url, principal);
    };
    serve().catch((err: unknown) => {
      ctx.logger.error('http request failed', { err, route: route.name });
      if (!res.headersSent) sendError(res, failureOf(err));
      else res.destroy();
    });
    return true;
  };
}
