import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Server } from 'socket.io';
import { DEFAULT_LIMITS, PROTOCOL_VERSION, syncError, type Limits } from '@syncline/protocol';
import { developmentAuth, type AuthHooks } from './auth/auth.js';
import { systemClock, type Clock } from './ops/clock.js';
import { checkHealth, healthRequestHandler, type HealthReport } from './ops/health.js';
import { createJsonLogger, type Logger } from './ops/logger.js';
import type { PruneStats, RetentionPolicy, SyncStorage } from './storage/storage.js';
import type { CollectionsConfig } from './sync/collections.js';
import type { ServerContext, SyncIo } from './transport/context.js';
import { acceptHandshake, ConnectRefused } from './transport/handshake.js';
import { isOriginAllowed } from './transport/origin.js';
import { attachSession } from './transport/session.js';

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
  /** Attach to this HTTP server; by default one is created that also serves `/healthz`. */
  readonly httpServer?: HttpServer;
  /** Socket.IO path (default `/socket.io`). */
  readonly path?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly nodeId?: string;
}

export interface SyncServer {
  readonly io: SyncIo;
  readonly httpServer: HttpServer;
  readonly nodeId: string;
  /** Listens on `port` (0 = ephemeral) and `host` (default 127.0.0.1); resolves the bound port. */
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /** Applies the retention policy now. */
  prune(): Promise<PruneStats>;
  health(): Promise<HealthReport>;
  /**
   * Graceful stop: refuses new events, lets in-flight ones finish and answer, then closes every
   * socket and the HTTP server. The storage stays open: its owner closes it.
   */
  close(): Promise<void>;
}

/** Creates a Syncline server. See README for a full example. */
export function createSyncServer(options: SyncServerOptions): SyncServer {
  const logger = options.logger ?? createJsonLogger();
  const clock = options.clock ?? systemClock;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const nodeId = options.nodeId ?? randomUUID().slice(0, 8);
  const devMode = options.auth === 'development';
  const auth = options.auth === 'development' ? developmentAuth : options.auth;
  const origins = options.cors?.origins ?? [];
  const startedAt = Date.now();
  let closing = false;
  const inflight = new Set<Promise<unknown>>();

  const health = () => checkHealth(options.storage, nodeId, io.engine.clientsCount, startedAt);
  const httpServer = options.httpServer ?? createServer(healthRequestHandler(health));
  const io: SyncIo = new Server(httpServer, {
    path: options.path ?? '/socket.io',
    serveClient: false,
    // Above the payload limit so slightly-oversized messages get a clear `payload_too_large`;
    // far larger ones are cut off by the transport before they are buffered.
    maxHttpBufferSize: limits.maxPayloadBytes * 2 + 64 * 1024,
    // Plain HTTP (polling) requests from a foreign origin are refused outright. WebSocket
    // upgrades get through to the handshake middleware instead, which refuses them with
    // `origin_not_allowed`: browsers hide a failed upgrade's status, so that is the only way a
    // developer sees why the connection is refused.
    allowRequest: (req, cb) => cb(null, req.headers.upgrade === 'websocket' || isOriginAllowed(req, origins)),
    ...(origins.length > 0 ? { cors: { origin: origins.includes('*') ? '*' : [...origins] } } : {}),
  });

  const ctx: ServerContext = {
    io,
    storage: options.storage,
    auth,
    collections: options.collections ?? {},
    limits,
    clock,
    logger,
    nodeId,
    devMode,
    isClosing: () => closing,
  };

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
        logger.error('handshake failed', { err });
        next(new ConnectRefused({ code: 'internal', message: 'internal error', retryable: true }));
      },
    );
  });

  io.on('connection', (socket) => {
    attachSession(ctx, socket, (p) => {
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    });
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
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          const bound = (httpServer.address() as AddressInfo).port;
          logger.info('listening', { host, port: bound, storage: options.storage.kind, nodeId });
          resolve({ port: bound, url: `http://${host}:${bound}` });
        });
      }),
    prune,
    health,
    close: async () => {
      if (closing) return;
      closing = true;
      if (retentionTimer) clearInterval(retentionTimer);
      await Promise.allSettled([...inflight]);
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
        // io.close only calls back once the HTTP server has closed; with no server listening it may not.
        if (!httpServer.listening) resolve();
      });
      logger.info('closed', { nodeId });
    },
  };
}
