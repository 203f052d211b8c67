import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { Server } from 'socket.io';
import {
  DEFAULT_LIMITS,
  PROTOCOL_VERSION,
  syncError,
  type Limits,
  type AppMutation,
  type ServerWriteResponse,
  type WriterStateResponse,
} from '@syncline/protocol';
import { developmentAuth, type AuthHooks, type Principal } from './auth/auth.js';
import { startCatchUp } from './cluster/catch-up.js';
import type { ClusterFanout } from './cluster/cluster-fanout.js';
import type { ChangeFeedDeps } from './feed/change-feed.js';
import { changeFeedIterator, type ChangeFeedOptions } from './feed/feed-iterator.js';
import type { HttpContext } from './http/http-context.js';
import { sendError } from './http/http-response.js';
import { createHttpHandler } from './http/router.js';
import { systemClock, type Clock } from './ops/clock.js';
import { checkHealth, type HealthReport, type LivenessReport, type ReadinessCheck } from './ops/health.js';
import { failureOf } from './ops/failure.js';
import { createJsonLogger, type Logger } from './ops/logger.js';
import { SyncMetrics } from './ops/metrics.js';
import { systemTimers, type Timers } from './ops/timers.js';
import type { PruneStats, RetentionPolicy, SyncStorage } from './storage/storage.js';
import type { CollectionsConfig } from './sync/collections.js';
import { CommitBus } from './sync/commit-bus.js';
import { encodeAppMutations, type AppFeedChange } from './sync/app-values.js';
import { writeAsServer, writerState } from './sync/server-writes.js';
import { broadcastCommit } from './transport/broadcast.js';
import { SCOPE_ROOM_PREFIX, type ServerContext, type SyncIo } from './transport/context.js';
import { acceptHandshake, ConnectRefused } from './transport/handshake.js';
import { isOriginAllowed } from './transport/origin.js';
import { attachSession } from './transport/session.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { checkServerOptions } from './options-schema.js';

/**
 * Socket.IO's heartbeat (see the \`Server\` options below): a dead link is noticed by both ends
 * within \`intervalMs + timeoutMs\`. Load balancers see traffic on every connection at least every
 * \`intervalMs\`.
 */
export const HEARTBEAT = { intervalMs: 2_000, timeoutMs: 2_000 } as const;

export interface SyncServerOptions {
  readonly storage: SyncStorage;
  /** Auth hooks, or `'development'` to accept everyone and allow everything (logged loudly). */
  readonly auth: AuthHooks | 'development';
  /** Per-collection conflict strategy and validation; unlisted collections use `merge`. */
  readonly collections?: CollectionsConfig;
  readonly limits?: Partial<Limits>;
  /** History/tombstone retention, applied every `intervalMs` (default hourly) when set. */
  readonly retention?: RetentionPolicy & { readonly intervalMs?: number };
  /** Browser origins allowed to connect. Closed by default: same-origin and non-browser only. */
  readonly cors?: { readonly origins: readonly string[] };
  /**
   * Attach to this HTTP server. By default one is created that also serves Syncline's HTTP
   * routes (`/healthz`, `/readyz`, `/metrics`, `/v1/…`); an attached app mounts them by calling
   * `handleHttp(req, res)` first in its own request handler.
   */
  readonly httpServer?: HttpServer;
  /** Socket.IO path (default `/socket.io`). */
  readonly path?: string;
  readonly clock?: Clock;
  /** Timers for background work (webhook retries, change-feed polls and heartbeats, probes). */
  readonly timers?: Timers;
  readonly logger?: Logger;
  readonly nodeId?: string;
  /**
   * Prometheus metrics at `GET /metrics`, on by default. `false` removes the route;
   * `token` requires `Authorization: Bearer <token>`; `defaultMetrics: false` leaves out
   * prom-client's process metrics (memory, CPU, event-loop lag, GC).
   */
  readonly metrics?: false | { readonly token?: string; readonly defaultMetrics?: boolean };
  readonly changeFeed?: {
    /** How often an idle feed re-reads storage for other nodes' commits (default 1000 ms). */
    readonly pollIntervalMs?: number;
    /** Heartbeat of idle HTTP feed streams (default 15 000 ms). */
    readonly heartbeatMs?: number;
  };
  /** Client telemetry: at most one report per socket per `minIntervalMs` (default 5000). */
  readonly telemetry?: { readonly minIntervalMs?: number };
  /**
   * Extra readiness checks for `/readyz` and `health()`, by name — e.g. the Socket.IO
   * adapter's connection: `{ adapter: () => redis.isReady }`.
   */
  readonly readinessChecks?: Readonly<Record<string, ReadinessCheck>>;
  /**
   * Cross-node fan-out, for several nodes sharing one PostgreSQL (`createPostgresFanout`,
   * `createRedisFanout`): its Socket.IO adapter carries every broadcast to the other nodes' sockets,
   * its connection is the `adapter` readiness check, and when that connection comes back after a
   * loss the node re-announces its rooms' heads so clients catch up on broadcasts lost meanwhile.
   * Its creator closes it after the server. Without it, fan-out stays within this process.
   */
  readonly cluster?: ClusterFanout;
  /** Webhook delivery internals, for tests: the HTTP client and the retry jitter source. */
  readonly webhooks?: { readonly fetch?: typeof fetch; readonly random?: () => number };
}

export interface SyncServer {
  readonly io: SyncIo;
  readonly httpServer: HttpServer;
  readonly nodeId: string;
  /** Listens on `port` (0 = ephemeral) and `host` (default 127.0.0.1); resolves the bound port. */
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /** This server's Prometheus registry (what `/metrics` serves). */
  readonly metricsRegistry: Registry;
  /**
   * Serves Syncline's HTTP routes; returns false, leaving the response alone, for any other
   * path. Only needed when attached to an app's own `httpServer`.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean;
  /** Applies the retention policy now. */
  prune(): Promise<PruneStats>;
  /** Readiness: storage reachable, extra checks passing, not shutting down (what `/readyz` serves). */
  health(): Promise<HealthReport>;
  /** Liveness (what `/healthz` serves); never touches storage. */
  liveness(): LivenessReport;
  /**
   * A scope's committed changes from a cursor, each exactly once in version order, then live
   * (see `ChangeFeedOptions`). The trusted in-process twin of `GET /v1/changes`, with values
   * decoded into the app's types (`Date`, `Uint8Array`, `ArrayBuffer`).
   */
  changes(scope: string, opts?: ChangeFeedOptions): AsyncGenerator<AppFeedChange, void, undefined>;
  /**
   * A backend write through the client write path (validation, authorization of `principal`,
   * conflicts, history, live fan-out), exactly once per (client id, mid). The mutations carry
   * dense mids of the backend's client id: `opts.clientId`, or one derived from the principal.
   * The in-process twin of `POST /v1/mutations`; values are in the app's types (a `Date` is a
   * `Date`), encoded here as a client encodes them, and key paths name the app's fields.
   */
  applyMutations(
    principal: Principal,
    mutations: readonly AppMutation[],
    opts?: { readonly clientId?: string },
  ): Promise<ServerWriteResponse>;
  /** The last mid applied for a backend's client id (0 for a new one); resume at `lastMid + 1`. */
  writerState(principal: Principal, opts?: { readonly clientId?: string }): Promise<WriterStateResponse>;
  /** Resolves once every queued webhook delivery has been delivered or given up. */
  webhooksSettled(): Promise<void>;
  /**
   * Graceful stop: refuses new events, lets in-flight ones finish and answer, then closes every
   * socket and the HTTP server. The storage stays open: its owner closes it.
   */
  close(): Promise<void>;
}

/**
 * Creates a Syncline server. See README for a full example. Throws `SynclineConfigError`
 * (`invalid_config: <path>: <what is wrong>` for every bad option) before anything starts.
 */
export function createSyncServer(options: SyncServerOptions): SyncServer {
  checkServerOptions(options);
  const logger = options.logger ?? createJsonLogger();
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const nodeId = options.nodeId ?? randomUUID().slice(0, 8);
  const devMode = options.auth === 'development';
  const auth = options.auth === 'development' ? developmentAuth : options.auth;
  const origins = options.cors?.origins ?? [];
  const collections = options.collections ?? {};
  const startedAt = clock.now();
  let closing = false;
  const closingController = new AbortController();
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
  };

  const commits = new CommitBus((err) => logger.error('commit listener failed', { err }));
  const metrics: SyncMetrics = new SyncMetrics({
    nodeId,
    storageKind: options.storage.kind,
    collections: Object.keys(collections),
    defaultMetrics: options.metrics !== false && options.metrics?.defaultMetrics !== false,
    sources: {
      connectedClients: () => io.of('/').sockets.size,
      subscriptions: () => {
        let total = 0;
        let scopes = 0;
        let maxPerScope = 0;
        for (const [room, members] of io.of('/').adapter.rooms) {
          if (!room.startsWith(SCOPE_ROOM_PREFIX)) continue;
          total += members.size;
          scopes++;
          maxPerScope = Math.max(maxPerScope, members.size);
        }
        return { total, scopes, maxPerScope };
      },
      // Read at scrape time only, once `io` and `webhooks` exist.
      webhookQueues: () => webhooks.depths(),
    },
  });

  const cluster = options.cluster;
  const readinessChecks: Readonly<Record<string, ReadinessCheck>> = {
    ...(cluster ? { adapter: () => cluster.ready() } : {}),
    ...options.readinessChecks,
  };
  let lastReadiness: LivenessReport['lastReadiness'];
  const health = async () => {
    const report = await checkHealth({
      storage: options.storage,
      nodeId,
      connections: io.engine.clientsCount,
      uptimeMs: clock.now() - startedAt,
      shuttingDown: closing,
      checks: readinessChecks,
      timers,
    });
    lastReadiness = { status: report.status, storageOk: report.storage.ok, at: clock.now() };
    return report;
  };
  const liveness = (): LivenessReport => ({
    status: 'ok',
    nodeId,
    connections: io.engine.clientsCount,
    uptimeSeconds: Math.round((clock.now() - startedAt) / 1000),
    ...(cluster ? { adapter: { kind: cluster.kind, ok: cluster.ready() } } : {}),
    ...(lastReadiness ? { lastReadiness } : {}),
  });

  // The routes need the context built below; requests only arrive once it exists.
  const httpServer =
    options.httpServer ??
    createServer((req, res) => {
      if (!handleHttp(req, res)) {
        req.resume();
        sendError(
          res,
          syncError('unknown_route', `nothing at ${(req.url ?? '/').split('?')[0]!.slice(0, 128)}`),
        );
      }
    });
  const io: SyncIo = new Server(httpServer, {
    path: options.path ?? '/socket.io',
    serveClient: false,
    // Heartbeat: a ping every 2 s, answered within 2 s. A client whose link died unnoticed
    // (no FIN, no `offline` event) closes the socket within 4 s of the last ping it heard and
    // reports itself reconnecting, and the server frees the socket as fast. The cost is two
    // frames of a few bytes per connection every 2 s (Socket.IO's defaults of 25 s + 20 s
    // would leave a dead link unnoticed for up to 45 s).
    pingInterval: HEARTBEAT.intervalMs,
    pingTimeout: HEARTBEAT.timeoutMs,
    // Above the payload limit so slightly-oversized messages get a clear `payload_too_large`;
    // far larger ones are cut off by the transport before they are buffered.
    maxHttpBufferSize: limits.maxPayloadBytes * 2 + 64 * 1024,
    // Plain HTTP (polling) requests from a foreign origin are refused outright. WebSocket
    // upgrades get through to the handshake middleware instead, which refuses them with
    // `origin_not_allowed`: browsers hide a failed upgrade's status, so that is the only way a
    // developer sees why the connection is refused.
    allowRequest: (req, cb) => cb(null, req.headers.upgrade === 'websocket' || isOriginAllowed(req, origins)),
    ...(origins.length > 0 ? { cors: { origin: origins.includes('*') ? '*' : [...origins] } } : {}),
    ...(cluster ? { adapter: cluster.adapter } : {}),
  });
  const catchUp = cluster
    ? startCatchUp({ cluster, io, storage: options.storage, logger, timers })
    : undefined;

  // Live fan-out is the first commit listener, so sockets hear of a commit before anything else.
  commits.subscribe((event) => {
    broadcastCommit(io, event.changes, event.origin);
    metrics.fanoutChanges.inc(event.changes.length);
    metrics.fanoutLatency.observe((performance.now() - event.committedAt) / 1000);
  });
  const webhooks: WebhookDispatcher = new WebhookDispatcher({
    collections,
    commits,
    timers,
    clock,
    metrics,
    logger,
    fetch: options.webhooks?.fetch ?? fetch,
    random: options.webhooks?.random ?? Math.random,
  });

  const ctx: ServerContext = {
    io,
    storage: options.storage,
    auth,
    collections,
    limits,
    clock,
    logger,
    nodeId,
    devMode,
    metrics,
    commits,
    telemetryMinIntervalMs: options.telemetry?.minIntervalMs ?? 5000,
    isClosing: () => closing,
  };
  const feedDeps: ChangeFeedDeps = {
    storage: options.storage,
    commits,
    timers,
    pollIntervalMs: options.changeFeed?.pollIntervalMs ?? 1000,
    pageSize: 500,
  };
  const httpCtx: HttpContext = {
    ...ctx,
    timers,
    origins,
    feed: feedDeps,
    heartbeatMs: options.changeFeed?.heartbeatMs ?? 15_000,
    maxBodyBytes: limits.maxPayloadBytes,
    closing: closingController.signal,
    metricsAccess:
      options.metrics === false
        ? false
        : options.metrics?.token !== undefined
          ? { token: options.metrics.token }
          : {},
    liveness,
    readiness: health,
    track,
  };
  const handleHttp = createHttpHandler(httpCtx);

  if (devMode) {
    logger.warn(
      'DEVELOPMENT AUTH MODE: every connection is accepted and every scope is open to everyone. ' +
        'Never run this in production; pass auth hooks (see README).',
      { devMode: true },
    );
  }

  io.use((socket, next) => {
    if (closing)
      return next(new ConnectRefused({ code: 'shutting_down', message: 'shutting down', retryable: true }));
    if (!isOriginAllowed(socket.request, origins)) {
      const origin = String(socket.request.headers.origin);
      logger.info('connection refused', { code: 'origin_not_allowed', origin });
      return next(
        new ConnectRefused(
          syncError(
            'origin_not_allowed',
            `origin ${origin} is not allowed; add it to the server's cors.origins`,
          ),
        ),
      );
    }
    acceptHandshake(ctx, socket).then(
      () => next(),
      (err: unknown) => {
        if (err instanceof ConnectRefused) {
          logger.info('connection refused', { code: err.data.code, address: socket.handshake.address });
          return next(err);
        }
        // Retryable either way; a storage outage is reported by readiness, not a bug.
        const error = failureOf(err);
        if (error.code !== 'storage_unavailable') logger.error('handshake failed', { err });
        else {
          logger.warn('handshake failed', { err });
          metrics.storageErrors.inc({ operation: 'handshake' });
        }
        next(new ConnectRefused(error));
      },
    );
  });

  io.on('connection', (socket) => {
    attachSession(ctx, socket, track);
    socket.emit('hello', {
      protocolVersion: PROTOCOL_VERSION,
      nodeId,
      serverTime: clock.now(),
      userId: socket.data.principal.id,
      devMode,
    });
  });

  const prune = async () => {
    const { intervalMs: _i, ...policy } = options.retention ?? {};
    const stats = await options.storage.prune(policy, clock.now());
    logger.info('retention applied', { ...stats });
    return stats;
  };
  const retentionTimer = options.retention
    ? setInterval(
        () => void prune().catch((err: unknown) => logger.error('retention failed', { err })),
        options.retention.intervalMs ?? 3_600_000,
      )
    : undefined;
  retentionTimer?.unref();

  return {
    io,
    httpServer,
    nodeId,
    metricsRegistry: metrics.registry,
    handleHttp,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          const bound = (httpServer.address() as AddressInfo).port;
          logger.info('listening', {
            host,
            port: bound,
            storage: options.storage.kind,
            adapter: cluster?.kind ?? 'memory',
            nodeId,
          });
          resolve({ port: bound, url: `http://${host}:${bound}` });
        });
      }),
    prune,
    health,
    liveness,
    changes: (scope, opts) => changeFeedIterator(feedDeps, metrics, closingController.signal, scope, opts),
    applyMutations: (principal, mutations, opts = {}) => {
      if (closing) {
        return Promise.resolve({ ok: false, error: syncError('shutting_down', 'server is shutting down') });
      }
      const encoded = encodeAppMutations(mutations);
      if (!encoded.ok) return Promise.resolve(encoded);
      const work = writeAsServer(ctx, principal, { clientId: opts.clientId, mutations: encoded.value });
      track(work);
      return work;
    },
    writerState: (principal, opts = {}) => writerState(ctx, principal, opts.clientId),
    webhooksSettled: () => webhooks.idle(),
    close: async () => {
      if (closing) return;
      closing = true;
      // Change feeds end and new HTTP API calls are refused; in-flight writes still answer.
      closingController.abort();
      if (retentionTimer) clearInterval(retentionTimer);
      catchUp?.stop();
      await Promise.allSettled([...inflight]);
      webhooks.stop();
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        // io.close only calls back once the HTTP server has closed; with no server listening it may not.
        if (!httpServer.listening) resolve();
      });
      logger.info('closed', { nodeId });
    },
  };
}
