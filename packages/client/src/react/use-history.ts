import { useMemo, useSyncExternalStore } from 'react';
import { createHistoryStore, idleHistoryStore, type HistorySnapshot } from './history-store.js';
import { useSyncClient } from './use-sync-client.js';
import type { AppKey } from '../app-values.js';

export interface UseHistoryResult extends HistorySnapshot {
  /** Fetches the history again (e.g. after an edit). Stable for one record. */
  readonly refresh: () => void;
}

export interface UseHistoryOptions {
  /** At most this many entries, newest first (the server's default otherwise). */
  readonly limit?: number;
}

/**
 * A synced record's version history from the server (`client.history`), newest first. Fetches
 * on mount and again when `table`, `id` or `limit` change, showing `loading` meanwhile; an
 * answer for a record no longer shown is ignored, so a slow response never overwrites a newer
 * one. It does not follow later changes by itself: call `refresh()`. With no `id` (nothing
 * selected) nothing is fetched.
 */
export function useHistory(
  table: string,
  id: AppKey | null | undefined,
  options: UseHistoryOptions = {},
): UseHistoryResult {
  const client = useSyncClient();
  const { limit } = options;
  // A compound key is a new array on every render: compare it by content.
  const idDep = Array.isArray(id) ? JSON.stringify(id) : id;
  const store = useMemo(
    () =>
      id === null || id === undefined
        ? idleHistoryStore
        : createHistoryStore(() => client.history(table, id, limit === undefined ? {} : { limit })),
    // `idDep` stands for `id` (by content).
    [client, table, idDep, limit],
  );
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return useMemo(() => ({ ...snapshot, refresh: store.refresh }), [snapshot, store]);
}
