import { DEFAULT_LIMITS, type Limits } from '@syncline/protocol';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './engine/backoff.js';
import {
  browserNetwork,
  browserVisibility,
  type NetworkStatus,
  type Visibility,
} from './engine/environment.js';
import { defaultElection, type LeaderElection } from './engine/leader.js';
import { DEFAULT_LEASE_TIMING, type LeaseTiming } from './engine/leader-lease.js';
import type { SyncedTableConfig } from './store/outbox-middleware.js';

export interface SyncClientOptions {
  /** Server URL, or several for failover (tried in turn). */
  readonly url: string | readonly string[];
  /** The app's synced tables and the scope of their records. */
  readonly tables: Readonly<Record<string, SyncedTableConfig>>;
  /** Scopes to subscribe to and keep in sync. */
  readonly scopes: readonly string[];
  /** Handshake token for the server's `authenticate` hook (a function is called per connection). */
  readonly token?: string | (() => string | Promise<string>);
  readonly path?: string;
  readonly network?: NetworkStatus;
  readonly visibility?: Visibility;
  readonly election?: LeaderElection;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
  readonly limits?: Partial<Limits>;
  /** How long any request to the server (sync, history, hash, a short-lived connection) may take. */
  readonly requestTimeoutMs?: number;
  readonly pullPageSize?: number;
  /**
   * Merge the queued edits of one record into one mutation when they are pushed (default true):
   * five offline edits of a card reach the server as one change, one version, one history
   * entry. Set false when the app needs every intermediate write in history. See
   * docs/behaviour.md, "Outbox coalescing".
   */
  readonly coalesce?: boolean;
  /**
   * Report a compact summary of `metrics$` (lag per scope, outbox depth and age, push latency,
   * conflict rate) to the server every `intervalMs` (default 15 000) while connected, for its
   * Prometheus metrics. Off by default.
   */
  readonly telemetry?: boolean | { readonly intervalMs?: number };
  /**
   * The leader tab's lease: it renews it every `heartbeatMs` (default 2 000); another tab with
   * pending writes takes over a lease not renewed for `staleAfterMs` (default 6 000), e.g. when
   * the leader tab is frozen or hung. See docs/behaviour.md.
   */
  readonly leaderLease?: { readonly heartbeatMs?: number; readonly staleAfterMs?: number };
}

/** How long a request to the server may take when `requestTimeoutMs` is not given. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
/** How often telemetry is reported when `telemetry: true` (or no `intervalMs`). */
export const DEFAULT_TELEMETRY_INTERVAL_MS = 15_000;
/** Records per pull page when `pullPageSize` is not given. */
export const DEFAULT_PULL_PAGE_SIZE = 500;

/** `SyncClientOptions` with every default filled in, computed once per client. */
export interface ResolvedOptions {
  /** The server URLs in failover order (never empty once the options were checked). */
  readonly urls: readonly string[];
  readonly tables: Readonly<Record<string, SyncedTableConfig>>;
  /** The synced tables' names (the keys of `tables`). */
  readonly tableNames: readonly string[];
  readonly scopes: readonly string[];
  readonly token: SyncClientOptions['token'];
  readonly path: string | undefined;
  readonly network: NetworkStatus;
  readonly visibility: Visibility;
  /** The election to join: the given one, or the platform's default (chosen when joining). */
  readonly election: () => LeaderElection;
  readonly now: () => number;
  readonly random: () => number;
  readonly backoff: BackoffPolicy;
  readonly limits: Limits;
  readonly requestTimeoutMs: number;
  readonly pullPageSize: number;
  readonly coalesce: boolean;
  /** How often to report telemetry, or null when it is off. */
  readonly telemetryIntervalMs: number | null;
  readonly leaseTiming: LeaseTiming;
}

/** Fills in every default of `options` (which `checkClientOptions` has accepted). */
export function resolveOptions(options: SyncClientOptions): ResolvedOptions {
  const { election, telemetry, leaderLease } = options;
  return {
    urls: typeof options.url === 'string' ? [options.url] : [...options.url],
    tables: options.tables,
    tableNames: Object.keys(options.tables),
    scopes: options.scopes,
    token: options.token,
    path: options.path,
    network: options.network ?? browserNetwork,
    visibility: options.visibility ?? browserVisibility,
    // Looked up when joining, as before: the platform's locks may appear after construction.
    election: () => election ?? defaultElection(),
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    pullPageSize: options.pullPageSize ?? DEFAULT_PULL_PAGE_SIZE,
    coalesce: options.coalesce ?? true,
    telemetryIntervalMs: !telemetry
      ? null
      : telemetry === true
        ? DEFAULT_TELEMETRY_INTERVAL_MS
        : (telemetry.intervalMs ?? DEFAULT_TELEMETRY_INTERVAL_MS),
    leaseTiming: { ...DEFAULT_LEASE_TIMING, ...leaderLease },
  };
}
