import { devAuthExposureError, watchDevAuthExposure } from './auth/dev-auth-exposure.js';
import { startCatchUp } from './cluster/catch-up.js';
import type { ChangeFeedDeps } from './feed/change-feed.js';
import { changeFeedIterator } from './feed/feed-iterator.js';
import { createHttpServer, listenHttp } from './http/http-server.js';
import { createHttpHandler } from './http/router.js';
import { ServerMetrics } from './ops/metrics.js';
import { PresenceHub } from './presence/presence-hub.js';
import { nodeHealth } from './ops/node-health.js';
import { startRetention } from './ops/retention.js';
import { Shutdown } from './ops/shutdown.js';
import { checkServerOptions } from './options-schema.js';
import { resolveServerOptions } from './resolve-options.js';
import type { SyncServer, SyncServerOptions } from './sync-server.js';
import { startSinks } from './sinks/sinks.js';
import { CommitBus } from './sync/commit-bus.js';
import { writeAppMutations, writerState } from './sync/server-writes.js';
import { Budgets } from './transport/budgets.js';
import { gateConnections } from './transport/connection-gate.js';
import type { ServerContext } from './transport/context.js';
import { CredentialExpiry } from './transport/credential-expiry.js';
import { startLiveFanout } from './transport/live-fanout.js';
import { ScopeHashCache } from './storage/scope-hash-cache.js';
import { revokeUser } from './transport/revoke.js';
import { socketMetricsSources } from './transport/socket-metrics.js';
import { closeSocketServer, createSocketServer } from './transport/socket-server.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';

export type { SyncServer, SyncServerOptions } from './sync-server.js';
export { HEARTBEAT } from './transport/socket-server.js';

/**
 * Creates a Syncline server. See README for a full example. Throws `SynclineConfigError`
 * (`invalid_config: <path>: <what is wrong>` for every bad option) before anything starts.
 *
 * The composition root: it only builds the parts and wires them. The connection gate, the
 * sessions and the live fan-out are in `transport/`, the write path in `sync/`, health,
 * metrics, retention and shutdown in `ops/`, the HTTP routes in `http/`.
 */
export function createSyncServer(options: SyncServerOptions): SyncServer {
  checkServerOptions(options);
  const config = resolveServerOptions(options);
  const { logger, clock, timers, limits, nodeId, origins, collections } = config;
  const { storage, cluster } = options;
  const startedAt = clock.now();
  const shutdown = new Shutdown();
  const isClosing = () => shutdown.closing;

  // The routes need the context built below; requests only arrive once it exists.
  const httpServer = options.httpServer ?? createHttpServer(() => handleHttp);
  // Development auth listens on loopback only (checked in `listen`, or when an attached server listens).
  if (options.httpServer) watchDevAuthExposure(options.httpServer, config, logger);
  const io = createSocketServer(httpServer, { path: options.path, limits, origins, cluster });
  const expiry = new CredentialExpiry(clock, timers, logger);
  const commits = new CommitBus((err) => logger.error('commit listener failed', { err }));
  const metrics: ServerMetrics = new ServerMetrics({
    nodeId,
    storageKind: storage.kind,
    collections: Object.keys(collections),
    defaultMetrics: config.defaultMetrics,
    // Webhook queues and presence are read at scrape time only, once both exist.
    sources: {
      ...socketMetricsSources(io),
      webhookQueues: () => webhooks.depths(),
      presence: () => presence.size(),
    },
  });
  const { health, liveness } = nodeHealth({
    ...config,
    storage,
    startedAt,
    adapter: cluster,
    readinessChecks: options.readinessChecks,
    connections: () => io.engine.clientsCount,
    isClosing,
  });

  // Live fan-out is the first commit listener, so sockets hear of a commit before anything else.
  startLiveFanout(io, commits, metrics, expiry);
  const catchUp = cluster
    ? startCatchUp({ cluster, io, storage, commits, logger, timers, clock })
    : undefined;
  const scopeHashes = new ScopeHashCache(storage);
  const budgets = new Budgets(options.budgets, logger, config.devMode);
  const presence = new PresenceHub(io, timers, config.presence, cluster !== undefined, logger);
  presence.start();
  const ctx: ServerContext = {
    ...config,
    io,
    storage,
    scopeHashes,
    metrics,
    commits,
    isClosing,
    expiry,
    budgets,
    presence,
  };
  const feed: ChangeFeedDeps = {
    storage,
    commits,
    timers,
    pollIntervalMs: config.feedPollIntervalMs,
    pageSize: 500,
  };
  const webhooks: WebhookDispatcher = new WebhookDispatcher({
    ...config,
    storage,
    feed,
    metrics,
    fetch: options.webhooks?.fetch ?? fetch,
    random: options.webhooks?.random ?? Math.random,
  });
  const handleHttp = createHttpHandler({
    ...ctx,
    timers,
    origins,
    feed,
    liveness,
    readiness: health,
    track: shutdown.track,
    heartbeatMs: config.feedHeartbeatMs,
    maxBodyBytes: limits.maxPayloadBytes,
    closing: shutdown.signal,
    metricsAccess: config.metricsAccess,
  });

  const sinks = startSinks(options.sinks ?? [], { storage, feed, metrics, logger, clock, timers });

  gateConnections(ctx, origins, shutdown.track);
  const retention = startRetention(storage, options.retention, { clock, logger });

  return {
    io,
    httpServer,
    nodeId,
    metricsRegistry: metrics.registry,
    handleHttp,
    listen: async (port, host = '127.0.0.1') => {
      const refused = devAuthExposureError(config, host);
      if (refused) throw refused;
      // A webhook or sink that starts 'now' counts from its registration: let it land first.
      await Promise.all([webhooks.ready(), sinks.ready()]);
      return listenHttp(httpServer, port, host, (bound) => {
        const adapter = cluster?.kind ?? 'memory';
        logger.info('listening', { host, port: bound, storage: storage.kind, adapter, nodeId });
      });
    },
    prune: retention.prune,
    health,
    liveness,
    changes: (scope, opts) => changeFeedIterator(feed, metrics, shutdown.signal, scope, opts),
    applyMutations: (principal, mutations, opts = {}) =>
      writeAppMutations({ ...ctx, track: shutdown.track }, principal, mutations, opts.clientId),
    writerState: (principal, opts = {}) => writerState(ctx, principal, opts.clientId),
    webhooksSettled: () => webhooks.idle(),
    revoke: ({ userId }) => revokeUser(io, logger, userId, cluster !== undefined),
    close: async () => {
      // Change feeds end and new HTTP API calls are refused; in-flight writes still answer.
      if (!shutdown.begin()) return;
      retention.stop();
      catchUp?.stop();
      presence.stop();
      await shutdown.drain();
      await Promise.all([webhooks.stop(), sinks.stop()]);
      await closeSocketServer(io, httpServer);
      logger.info('closed', { nodeId });
    },
  };
}
