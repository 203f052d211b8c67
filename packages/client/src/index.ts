export { createSyncClient, SyncClient } from './sync-client.js';
export type { SyncClientOptions, ConflictResolution } from './sync-client.js';
export type { SyncStatus } from './status.js';
export { SynclineError, CLIENT_ERROR_CODES } from './errors.js';
export type { SynclineErrorCode } from './errors.js';
export { newId, createIdGenerator } from './new-id.js';
export type { IdGeneratorOptions } from './new-id.js';
export type {
  AppKey,
  AppHistoryEntry,
  AppConflictEntry as ConflictEntry,
  AppRecordState,
} from './app-values.js';
export type { SyncMetrics, ScopeSyncMetrics } from './sync-metrics.js';
export type { SyncPhase } from './engine/sync-engine.js';
export { synclineStores } from './store/schema.js';
export type { OutboxEntry, RejectionEntry, RecordMeta, ScopeRow } from './store/schema.js';
export { SynclineWriteError } from './store/outbox-middleware.js';
export type { SyncedTableConfig } from './store/outbox-middleware.js';
export { ManualNetwork, browserNetwork, browserVisibility } from './engine/environment.js';
export type { NetworkStatus, Visibility } from './engine/environment.js';
export { memoryElection, webLocksElection, defaultElection } from './engine/leader.js';
export type { LeaderElection } from './engine/leader.js';
export { DEFAULT_BACKOFF, backoffDelay } from './engine/backoff.js';
export type { BackoffPolicy } from './engine/backoff.js';
