import { useMemo, useSyncExternalStore } from 'react';
import { encodeValue } from '@syncline/protocol';
import type { QueryOptions } from '../server-query.js';
import { createQueryStore, idleQueryStore, type QuerySnapshot } from './query-store.js';
import { useSyncClient } from './use-sync-client.js';

export interface UseQueryResult extends QuerySnapshot {
  /** Fetches the next page and appends its rows (a no-op while loading or on the last page). */
  readonly fetchNextPage: () => void;
  /** Starts over from the first page (e.g. after data changed on the server). */
  readonly refresh: () => void;
}

/**
 * A read-through query on the server (`client.query`): data this device need not sync. Fetches
 * the first page on mount and again whenever the query changes (compared by content, so an
 * inline object is fine), showing `loading` meanwhile; `fetchNextPage()` appends the next page.
 * An answer for a query no longer shown is ignored. It does not follow later changes: call
 * `refresh()`. With `null` (nothing to ask yet) nothing is fetched. Offline, `error` is a
 * `SynclineError` with code `offline` (retryable): call `refresh()` when back online.
 */
export function useQuery(query: Omit<QueryOptions, 'after'> | null | undefined): UseQueryResult {
  const client = useSyncClient();
  const key = query ? queryKey(query) : undefined;
  const store = useMemo(
    () =>
      query === null || query === undefined
        ? idleQueryStore
        : createQueryStore((after) => client.query(after === undefined ? query : { ...query, after })),
    // `key` stands for `query` (by content).
    [client, key],
  );
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return useMemo(
    () => ({ ...snapshot, fetchNextPage: store.fetchNextPage, refresh: store.refresh }),
    [snapshot, store],
  );
}

/** A query's identity by content, values in the wire encoding (Dates by their time). */
function queryKey(query: Omit<QueryOptions, 'after'>): string {
  const enc = encodeValue(query);
  // One key for every unsendable query: it is fetched once and shows `invalid_argument`.
  return enc.ok ? JSON.stringify(enc.value) : 'invalid';
}
