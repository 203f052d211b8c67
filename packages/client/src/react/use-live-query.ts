import type { DependencyList } from 'react';
import { useObservable } from './use-observable.js';
import { useSyncClient } from './use-sync-client.js';

/**
 * A Dexie live query through `client.liveQuery`: runs `query`, and re-renders with its new
 * result whenever the data it read changes (local writes, synced changes, other tabs). Returns
 * `initial` (default `undefined`) until the first result; a query that resolves to `undefined`
 * (e.g. `get` of a missing key) gives `undefined`, not `initial`, once it has run. The query is
 * re-subscribed when `deps` (the values it closes over) change, and shows `initial` again until
 * the new query's first result, so a stale result is never shown under new deps. Errors are
 * thrown during render, for an error boundary.
 *
 * ```tsx
 * const cards = useLiveQuery(() => db.cards.where('board').equals(board).toArray(), [board], []);
 * ```
 */
export function useLiveQuery<T>(query: () => T | Promise<T>, deps?: DependencyList): T | undefined;
export function useLiveQuery<T, I>(query: () => T | Promise<T>, deps: DependencyList, initial: I): T | I;
export function useLiveQuery<T, I>(
  query: () => T | Promise<T>,
  deps: DependencyList = [],
  initial?: I,
): T | I | undefined {
  const client = useSyncClient();
  return useObservable(() => client.liveQuery(query), [client, ...deps], initial);
}
