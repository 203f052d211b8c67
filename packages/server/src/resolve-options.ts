import { randomUUID } from 'node:crypto';
import { DEFAULT_LIMITS, type Limits } from '@syncline/protocol';
import { developmentAuth, type AuthHooks } from './auth/auth.js';
import { DEFAULT_PRESENCE_TIMING, type PresenceTiming } from './presence/presence-hub.js';
import { systemClock, type Clock } from './ops/clock.js';
import { createJsonLogger, type Logger } from './ops/logger.js';
import { systemTimers, type Timers } from './ops/timers.js';
import { DEFAULT_MAX_SCAN_RECORDS, type QueryConfig } from './query/run-query.js';
import type { CollectionsConfig } from './sync/collections.js';
import type { SyncServerOptions } from './sync-server.js';

/** `SyncServerOptions` with every default applied, computed once per server. */
export interface ResolvedServerOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly limits: Limits;
  readonly nodeId: string;
  /** `auth: 'development'`: everyone is accepted and allowed (and a warning is logged). */
  readonly devMode: boolean;
  /** Development auth may listen on non-loopback addresses (`allowInsecureDevAuth`). */
  readonly allowInsecureDevAuth: boolean;
  readonly auth: AuthHooks;
  readonly origins: readonly string[];
  readonly collections: CollectionsConfig;
  readonly telemetryMinIntervalMs: number;
  /** Presence: how often a node re-sends its entries, how long receivers keep one. */
  readonly presence: PresenceTiming;
  /** Change feeds: how often an idle feed re-reads storage, and the HTTP stream heartbeat. */
  readonly feedPollIntervalMs: number;
  readonly feedHeartbeatMs: number;
  /** `false`: no `/metrics` route; a token: scrapes must send it as a bearer token. */
  readonly metricsAccess: false | { readonly token?: string };
  /** Also export prom-client's process metrics. */
  readonly defaultMetrics: boolean;
  /** Read-through queries: the scan bound and the external sources. */
  readonly query: QueryConfig;
}

/**
 * Applies the defaults of `SyncServerOptions` (already checked by `checkServerOptions`): the
 * JSON logger, the system clock and timers, the protocol's limits, a random 8-character node
 * id, no foreign origins, every collection on `merge`, metrics on.
 */
export function resolveServerOptions(options: SyncServerOptions): ResolvedServerOptions {
  const devMode = options.auth === 'development';
  const metrics = options.metrics;
  return {
    logger: options.logger ?? createJsonLogger(),
    clock: options.clock ?? systemClock,
    timers: options.timers ?? systemTimers,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    nodeId: options.nodeId ?? randomUUID().slice(0, 8),
    devMode,
    allowInsecureDevAuth: options.allowInsecureDevAuth === true,
    auth: options.auth === 'development' ? developmentAuth : options.auth,
    origins: options.cors?.origins ?? [],
    collections: options.collections ?? {},
    telemetryMinIntervalMs: options.telemetry?.minIntervalMs ?? 5000,
    presence: {
      refreshMs: options.presence?.refreshMs ?? DEFAULT_PRESENCE_TIMING.refreshMs,
      ttlMs: options.presence?.ttlMs ?? DEFAULT_PRESENCE_TIMING.ttlMs,
    },
    feedPollIntervalMs: options.changeFeed?.pollIntervalMs ?? 1000,
    feedHeartbeatMs: options.changeFeed?.heartbeatMs ?? 15_000,
    metricsAccess: metrics === false ? false : metrics?.token !== undefined ? { token: metrics.token } : {},
    defaultMetrics: metrics !== false && metrics?.defaultMetrics !== false,
    query: {
      maxScanRecords: options.query?.maxScanRecords ?? DEFAULT_MAX_SCAN_RECORDS,
      sources: options.query?.sources ?? {},
    },
  };
}
