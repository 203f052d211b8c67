import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { AppMutation, Limits, ServerWriteResponse, WriterStateResponse } from '@syncline/protocol';
import type { AuthHooks, Principal } from './auth/auth.js';
import type { ClusterFanout } from './cluster/cluster-fanout.js';
import type { ChangeFeedOptions } from './feed/feed-iterator.js';
import type { Clock } from './ops/clock.js';
import type { HealthReport, LivenessReport, ReadinessCheck } from './ops/health.js';
import type { Logger } from './ops/logger.js';
import type { Timers } from './ops/timers.js';
import type { SinkConfig } from './sinks/sink-config.js';
import type { PruneStats, RetentionPolicy, SyncStorage } from './storage/storage.js';
import type { AppFeedChange } from './sync/app-values.js';
import type { QuerySource } from './query/query-sources.js';
import type { CollectionsConfig } from './sync/collections.js';
import type { BudgetOptions } from './transport/budgets.js';
import type { SyncIo } from './transport/context.js';
import type { RevokeResult } from './transport/revoke.js';

// The public contract of `createSyncServer`: what it takes and what it returns.

export interface SyncServerOptions {
  readonly storage: SyncStorage;
  /** Auth hooks, or `'development'` to accept everyone and allow everything (logged loudly). */
  readonly auth: AuthHooks | 'development';
  /**
   * INSECURE. Lets `auth: 'development'` listen on a non-loopback address (`0.0.0.0`, a LAN
   * address); without it `listen` refuses with `invalid_config: auth: …`. Only for a trusted
   * network: everyone who reaches the port may read and write every scope.
   */
  readonly allowInsecureDevAuth?: boolean;
  /** Per-collection conflict strategy and validation; unlisted collections use `merge`. */
  readonly collections?: CollectionsConfig;
  readonly limits?: Partial<Limits>;
  /**
   * Connection and event budgets that hold across sockets and reconnects: connection attempts
   * per address and per principal (checked at the handshake), events per principal (in the
   * session gate). Exhausted: `rate_limited`. In memory per node, or shared through `redis`.
   */
  readonly budgets?: BudgetOptions;
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
   * Ephemeral presence: each node re-sends its entries every `refreshMs` (default 2000), and
   * receivers drop an entry not re-sent within `ttlMs` (default 5000; the longest a dead node's
   * entries stay visible). `ttlMs` must exceed `refreshMs`.
   */
  readonly presence?: { readonly refreshMs?: number; readonly ttlMs?: number };
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
  /**
   * Read-through queries (`query` event, `POST /v1/query`): `sources` are external sources by
   * name whose rows join Syncline's own in every answer; `maxScanRecords` (default 100 000) is
   * the largest scope a query page scans before it is refused with `invalid_query`.
   */
  readonly query?: {
    readonly maxScanRecords?: number;
    readonly sources?: Readonly<Record<string, QuerySource>>;
  };

  /**
   * Broker sinks (docs/sinks.md): each publishes every committed change, per scope in version
   * order, to RabbitMQ or NATS JetStream, from a cursor of its own stored in `storage`. On
   * PostgreSQL exactly one node of the cluster runs a given sink at a time. Needs the optional
   * `amqplib` / `nats` packages.
   */
  readonly sinks?: readonly SinkConfig[];
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
  /**
   * Ends a user's access now: each of the user's sockets hears `session_ended`
   * (`access_revoked`) and is closed, on this node at once and on the other nodes through the
   * cluster adapter. Make the `authenticate` hook refuse the revoked credentials first, or the
   * client, which reconnects at once, is let back in. Credentials also end on their own at the
   * principal's `expiresAt`.
   */
  revoke(who: { readonly userId: string }): RevokeResult;
  /**
   * Resolves once every change committed before the call has been delivered to its webhook or
   * given up (by this node, or by the node that holds the webhook on a shared PostgreSQL).
   */
  webhooksSettled(): Promise<void>;
  /**
   * Graceful stop: refuses new events, lets in-flight ones finish and answer, then closes every
   * socket and the HTTP server. The storage stays open: its owner closes it.
   */
  close(): Promise<void>;
}
