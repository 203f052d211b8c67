import {
  HashRequestSchema,
  HistoryRequestSchema,
  PullRequestSchema,
  SubscribeRequestSchema,
  TelemetryReportSchema,
  UnsubscribeRequestSchema,
  asVersion,
  syncError,
  validateMessage,
  type ClientEventName,
  type HashResponse,
  type HistoryResponse,
  type PullResponse,
  type PushResponse,
  type ScopeId,
  type ScopeSubscription,
  type SubscribeResponse,
  type TelemetryResponse,
  type UnsubscribeResponse,
} from '@syncline/protocol';
import type { ScopeAction } from '../auth/auth.js';
import { runQuery } from '../query/run-query.js';
import { runPush } from '../sync/run-push.js';
import { toChange } from '../sync/wire-change.js';
import { createPresenceHandlers } from './presence-handlers.js';
import { reauthenticate } from './reauth.js';
import { scopeRoom, type ServerContext, type ServerSocket } from './context.js';

type Handler = (payload: unknown) => Promise<{ ok: boolean }>;

const DEFAULT_PULL_LIMIT = 500;

/** One handler per protocol event. Each validates its payload and authorizes before storage. */
export function createHandlers(ctx: ServerContext, socket: ServerSocket): Record<ClientEventName, Handler> {
  const { storage, limits } = ctx;
  // Read at each call: `reauth` replaces the principal (fresh credentials, new claims).
  const can = async (scope: ScopeId, action: ScopeAction) =>
    ctx.auth.authorize(socket.data.principal, scope, action);
  const forbidden = (scope: ScopeId, action: ScopeAction) =>
    ({ ok: false, error: syncError('forbidden', `no ${action} access to scope "${scope}"`) }) as const;

  // A socket's pushes run one after another in arrival order (protocol 2): a client pipelines
  // its outbox, sending batch k + 1 before batch k is answered, and k + 1 applied first would
  // be a mid gap. Pushes of different sockets still run concurrently (and commit as a group).
  let pushes: Promise<unknown> = Promise.resolve();
  const push = (payload: unknown): Promise<PushResponse> => {
    const run = pushes.then(() =>
      runPush(
        ctx,
        {
          principal: socket.data.principal,
          clientId: socket.data.clientId,
          source: 'client',
          origin: socket.id,
        },
        payload,
      ),
    );
    pushes = run.catch(() => undefined);
    return run;
  };

  const pull = async (payload: unknown): Promise<PullResponse> => {
    const req = validateMessage(PullRequestSchema, payload, limits);
    if (!req.ok) return req;
    const { scope, after } = req.value;
    if (!(await can(scope, 'pull'))) return forbidden(scope, 'pull');
    const limit = Math.min(req.value.limit ?? DEFAULT_PULL_LIMIT, limits.maxPullLimit);
    let page = await storage.pull(scope, after, limit, socket.data.clientId);
    // A copy begun before the latest purge, with a cursor below it, may hold records whose
    // tombstones were purged; a cursor above head comes from another history (a restored
    // database). Either way the client must start over from 0.
    const knownHorizon = req.value.horizon ?? 0;
    const reset = after > 0 && ((after < page.horizon && knownHorizon < page.horizon) || after > page.head);
    if (reset) page = await storage.pull(scope, asVersion(0), limit, socket.data.clientId);
    ctx.metrics.pullPages.inc();
    ctx.metrics.pullRows.inc(page.records.length);
    if (reset) ctx.metrics.pullResets.inc();
    ctx.metrics.pullLag.observe(Math.max(0, page.head - (reset ? 0 : after)));
    const last = page.records[page.records.length - 1];
    return {
      ok: true,
      scope,
      changes: page.records.map(toChange),
      upTo: page.hasMore && last ? last.version : page.head,
      head: page.head,
      horizon: page.horizon,
      hasMore: page.hasMore,
      lastMid: page.clientLastMid,
      reset,
    };
  };

  const subscribe = async (payload: unknown): Promise<SubscribeResponse> => {
    const req = validateMessage(SubscribeRequestSchema, payload, limits);
    if (!req.ok) return req;
    const scopes: ScopeSubscription[] = [];
    for (const scope of new Set(req.value.scopes)) {
      if (!(await can(scope, 'subscribe'))) {
        scopes.push({ scope, ok: false, error: forbidden(scope, 'subscribe').error });
        continue;
      }
      await socket.join(scopeRoom(scope));
      scopes.push({ scope, ok: true, head: await storage.head(scope) });
    }
    return { ok: true, scopes };
  };

  const unsubscribe = async (payload: unknown): Promise<UnsubscribeResponse> => {
    const req = validateMessage(UnsubscribeRequestSchema, payload, limits);
    if (!req.ok) return req;
    for (const scope of req.value.scopes) await socket.leave(scopeRoom(scope));
    return { ok: true };
  };

  const history = async (payload: unknown): Promise<HistoryResponse> => {
    const req = validateMessage(HistoryRequestSchema, payload, limits);
    if (!req.ok) return req;
    const { scope, collection, id, before, limit } = req.value;
    if (!(await can(scope, 'pull'))) return forbidden(scope, 'pull');
    const entries = await storage.history(scope, collection, id, {
      ...(before !== undefined ? { before } : {}),
      limit: limit ?? 100,
    });
    return {
      ok: true,
      entries: entries.map(({ scope: _s, collection: _c, id: _i, ...entry }) => entry),
    };
  };

  const hash = async (payload: unknown): Promise<HashResponse> => {
    const req = validateMessage(HashRequestSchema, payload, limits);
    if (!req.ok) return req;
    const { scope } = req.value;
    if (!(await can(scope, 'pull'))) return forbidden(scope, 'pull');
    // Incremental: reads only what changed since this node last hashed the scope.
    return { ok: true, scope, ...(await ctx.scopeHashes.hash(scope)) };
  };

  let lastTelemetryAt = Number.NEGATIVE_INFINITY;
  const telemetry = async (payload: unknown): Promise<TelemetryResponse> => {
    const req = validateMessage(TelemetryReportSchema, payload, limits);
    if (!req.ok) return req;
    const now = ctx.clock.now();
    if (now - lastTelemetryAt < ctx.telemetryMinIntervalMs) {
      return {
        ok: false,
        error: syncError('rate_limited', `at most one telemetry report per ${ctx.telemetryMinIntervalMs} ms`),
      };
    }
    lastTelemetryAt = now;
    // Only scopes this socket follows count: a client cannot inflate lag of scopes it never joined.
    ctx.metrics.reportTelemetry(socket.id, req.value, (scope) => socket.rooms.has(scopeRoom(scope)));
    return { ok: true };
  };

  const reauth = (payload: unknown) => reauthenticate(ctx, socket, payload);
  const query = (payload: unknown) => runQuery(ctx, socket.data.principal, payload);

  return {
    push,
    pull,
    subscribe,
    unsubscribe,
    history,
    hash,
    telemetry,
    reauth,
    query,
    ...createPresenceHandlers(ctx, socket),
  };
}
