export { createSyncClient, SyncClient } from './sync-client.js';
export type { SyncClientOptions, ConflictResolution, FieldChoice, PresenceMember } from './sync-client.js';
export type { SyncStatus, SyncProgress, InitialSyncProgress } from './status.js';
export type { AdoptionProgress } from './store/adopt-existing.js';
export { newId, createIdGenerator } from './new-id.js';
export type { IdGeneratorOptions } from './new-id.js';
export type {
  AppKey,
  AppHistoryEntry,
  AppConflictEntry as ConflictEntry,
  AppRecordState,
} from './app-values.js';
export type { SyncMetrics, ScopeSyncMetrics } from './sync-metrics.js';
export type { QueryCondition, QueryOptions, QueryResult, QueryResultRow } from './server-query.js';
export type { SyncPhase } from './engine/sync-engine.js';
export { SynclineError, CLIENT_ERROR_CODES } from './errors.js';
export type { ClientErrorCode, SynclineErrorCode, SynclineErrorData } from './errors.js';
export type { SyncedReport, WaitOptions, WriteOutcome } from './await-sync.js';
export type { RecordSyncState, ScopeSyncState, SyncErrorEvent } from './client-observables.js';
export { synclineStores } from './store/schema.js';
export type { OutboxEntry, RejectionEntry, RecordMeta, ScopeRow } from './store/schema.js';
export { SynclineWriteError } from './store/write-checks.js';
export { SynclineConfigError } from '@syncline/protocol';
export type { ConfigIssue } from '@syncline/protocol';
export type { SyncedTableConfig } from './store/outbox-middleware.js';
export { ManualNetwork, browserNetwork, browserVisibility } from './engine/environment.js';
export type { NetworkStatus, Visibility } from './engine/environment.js';
export { combineNetworks, workOfflineSwitch } from './engine/network.js';
export type { WorkOfflineNetwork } from './engine/network.js';
export { memoryElection, webLocksElection, defaultElection } from './engine/leader.js';
export type { LeaderCampaign, LeaderElection } from './engine/leader.js';
export { DEFAULT_BACKOFF, backoffDelay } from './engine/backoff.js';
export type { BackoffPolicy } from './engine/backoff.js';
