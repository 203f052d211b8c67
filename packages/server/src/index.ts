export { createSyncServer } from './create-sync-server.js';
export type { SyncServer, SyncServerOptions } from './create-sync-server.js';
export type { RevokeResult } from './transport/revoke.js';
export { ChangeFeedError } from './feed/change-feed.js';
export type { ChangeFeedOptions } from './feed/feed-iterator.js';
export type { AppFeedChange } from './sync/app-values.js';
export { serverClientId } from './sync/server-writes.js';
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from './webhooks/webhook-signature.js';
export { webhookRetryDelay } from './webhooks/webhook-publisher.js';
export { HTTP_ROUTES } from './http/router.js';
export { developmentAuth } from './auth/auth.js';
export { DEFAULT_BUDGETS } from './transport/budgets.js';
export type { BudgetOptions, RateBudget } from './transport/budgets.js';
export { assertDevAuthAddress, isLoopbackHost } from './auth/dev-auth-exposure.js';
export type { AuthHooks, Principal, HandshakeInfo, ScopeAction } from './auth/auth.js';
export type {
  CollectionConfig,
  CollectionsConfig,
  CustomResolver,
  ResolveContext,
  ResolveDecision,
  Validator,
  ValidateContext,
  WebhookConfig,
} from './sync/collections.js';
export { compileWhere } from './query/where.js';
export type { RecordPredicate } from './query/where.js';
export type { QuerySource, SourceContext, SourceQuery, SourceRow } from './query/query-sources.js';
export { postgresQuerySource, sqliteQuerySource } from './query/sql-sources.js';
export type {
  ClosableQuerySource,
  SourcePool,
  SourcePoolClient,
  SqlSourceOptions,
} from './query/sql-sources.js';
export { MemoryStorage } from './storage/memory-storage.js';
export { SqliteStorage } from './storage/sqlite-storage.js';
export type { SqliteStorageOptions } from './storage/sqlite-storage.js';
export { PostgresStorage } from './storage/postgres-storage.js';
export type { PostgresStorageOptions } from './storage/postgres-storage.js';
export type {
  SyncStorage,
  StorageTx,
  RecordKey,
  PrefetchKey,
  StoredRecord,
  StoredHistoryEntry,
  ClientRow,
  HistoryPage,
  PullPage,
  RetentionPolicy,
  PruneStats,
  WritesAfter,
  SinkBacklogEntry,
  StorageLock,
} from './storage/storage.js';
export { createPostgresFanout } from './cluster/postgres-fanout.js';
export type { PostgresFanoutOptions } from './cluster/postgres-fanout.js';
export { createRedisFanout } from './cluster/redis-fanout.js';
export type { RedisFanoutOptions } from './cluster/redis-fanout.js';
export { clusterName } from './cluster/cluster-fanout.js';
export type { ClusterFanout } from './cluster/cluster-fanout.js';
export { MISSING_DEPENDENCY, MissingDependencyError } from './ops/optional-dependency.js';
export type { OptionalDependency } from './ops/optional-dependency.js';
export { createJsonLogger, silentLogger } from './ops/logger.js';
export type { Logger, LogLevel } from './ops/logger.js';
export { systemClock } from './ops/clock.js';
export type { Clock } from './ops/clock.js';
export { systemTimers } from './ops/timers.js';
export type { Timers, TimerHandle } from './ops/timers.js';
export type { HealthReport, LivenessReport, ReadinessCheck } from './ops/health.js';
export { METRIC_PREFIX, OTHER_COLLECTION } from './ops/metrics.js';
export { threeWayMerge } from './sync/three-way-merge.js';
export { SynclineConfigError } from '@syncline/protocol';
export type { ConfigIssue } from '@syncline/protocol';
