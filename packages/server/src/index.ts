export { createSyncServer } from './create-sync-server.js';
export type { SyncServer, SyncServerOptions } from './create-sync-server.js';
export { developmentAuth } from './auth/auth.js';
export type { AuthHooks, Principal, HandshakeInfo, ScopeAction } from './auth/auth.js';
export type {
  CollectionConfig,
  CollectionsConfig,
  CustomResolver,
  ResolveContext,
  ResolveDecision,
  Validator,
  ValidateContext,
} from './sync/collections.js';
export { MemoryStorage } from './storage/memory-storage.js';
export { SqliteStorage } from './storage/sqlite-storage.js';
export type {
  SyncStorage,
  StorageTx,
  StoredRecord,
  StoredHistoryEntry,
  ClientRow,
  PullPage,
  RetentionPolicy,
  PruneStats,
} from './storage/storage.js';
export { createJsonLogger, silentLogger } from './ops/logger.js';
export type { Logger, LogLevel } from './ops/logger.js';
export { systemClock } from './ops/clock.js';
export type { Clock } from './ops/clock.js';
export type { HealthReport } from './ops/health.js';
export { threeWayMerge } from './sync/three-way-merge.js';
