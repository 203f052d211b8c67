import type { Server, Socket } from 'socket.io';
import type { ClientId, InboundEvents, Limits, ScopeId, ServerToClientEvents } from '@syncline/protocol';
import type { AuthHooks, Principal } from '../auth/auth.js';
import type { Clock } from '../ops/clock.js';
import type { Budgets } from './budgets.js';
import type { Logger } from '../ops/logger.js';
import type { Timers } from '../ops/timers.js';
import type { ServerMetrics } from '../ops/metrics.js';
import type { ScopeHashCache } from '../storage/scope-hash-cache.js';
import type { SyncStorage } from '../storage/storage.js';
import type { QueryConfig } from '../query/run-query.js';
import type { CollectionsConfig } from '../sync/collections.js';
import type { CommitBus } from '../sync/commit-bus.js';
import type { CredentialExpiry } from './credential-expiry.js';
import type { PresenceHub } from '../presence/presence-hub.js';

/** What the server keeps on each accepted socket. */
export interface SocketData {
  principal: Principal;
  clientId: ClientId;
}

/** Events between nodes (`io.serverSideEmit`, through the cluster adapter). */
export interface InterServerEvents {
  /** A socket started watching `scope`'s presence: nodes holding entries send them to it. */
  presence_wanted: (scope: ScopeId, socketId: string) => void;
}

export type SyncIo = Server<InboundEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type ServerSocket = Socket<InboundEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Everything event handlers need, built once per server. */
export interface ServerContext {
  readonly io: SyncIo;
  readonly storage: SyncStorage;
  /** The `hash` event's answers, maintained incrementally per scope. */
  readonly scopeHashes: ScopeHashCache;
  readonly auth: AuthHooks;
  readonly collections: CollectionsConfig;
  readonly limits: Limits;
  /** Connection and event budgets across sockets (per address, per principal). */
  readonly budgets: Budgets;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly nodeId: string;
  readonly devMode: boolean;
  readonly metrics: ServerMetrics;
  /** Every commit made on this node goes through here (fan-out, change feeds, webhooks). */
  readonly commits: CommitBus;
  /** Fewest milliseconds between two accepted telemetry reports of one socket. */
  readonly telemetryMinIntervalMs: number;
  /** True once shutdown started: new events are refused with `shutting_down`. */
  readonly isClosing: () => boolean;
  /** Closes each socket when its credentials expire (and before a broadcast could reach it). */
  readonly expiry: CredentialExpiry;
  /** This node's ephemeral presence entries and their fan-out. */
  readonly presence: PresenceHub;
  /** Read-through queries: the scan bound and the external sources. */
  readonly query: QueryConfig;
}

/** Prefix of every scope room's name; no other room starts with it. */
export const SCOPE_ROOM_PREFIX = 'scope:';

/** The Socket.IO room of every socket of one user (`revoke` closes them, on every node). */
export const userRoom = (userId: string): string => `user:${userId}`;

/** The Socket.IO room of a scope's live changes. */
export const scopeRoom = (scope: ScopeId): string => `${SCOPE_ROOM_PREFIX}${scope}`;
