/**
 * `@syncline/client/react`: React bindings for a `SyncClient`. Every hook reads the client from
 * `SynclineProvider` and subscribes through `useSyncExternalStore`.
 */
export { SynclineProvider } from './syncline-provider.js';
export type { SynclineProviderProps } from './syncline-provider.js';
export { useSyncClient } from './use-sync-client.js';
export { useLiveQuery } from './use-live-query.js';
export { useSyncStatus } from './use-sync-status.js';
export { useSyncErrors } from './use-sync-errors.js';
export { usePresence } from './use-presence.js';
export { useConflicts } from './use-conflicts.js';
export type { UseConflictsResult } from './use-conflicts.js';
export { useRejections } from './use-rejections.js';
export type { UseRejectionsResult } from './use-rejections.js';
export { useHistory } from './use-history.js';
export type { UseHistoryOptions, UseHistoryResult } from './use-history.js';
export type { HistorySnapshot } from './history-store.js';
export { useQuery } from './use-query.js';
export type { UseQueryResult } from './use-query.js';
export type { QuerySnapshot } from './query-store.js';
export { useObservable } from './use-observable.js';
export { createObservableStore } from './observable-store.js';
export type { ObservableSnapshot, ObservableStore } from './observable-store.js';
