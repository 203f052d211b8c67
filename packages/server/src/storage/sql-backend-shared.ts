import type { RecordRow } from './rows.js';
import type { PruneStats, RetentionPolicy } from './storage.js';

/**
 * Pieces the SQL backends (SQLite, PostgreSQL) share verbatim: the shape of a retention run,
 * keyset paging over live records and the call of `onCommit`. The SQL differs per backend; the logic around it must not.
 */

/** What a retention run removes: history older than `cutoff`, and beyond the newest `keep` versions. */
export interface RetentionBounds {
  readonly cutoff: number | undefined;
  readonly keep: number | undefined;
}

/** What a retention policy removes at `now`, or undefined when it removes nothing. */
export function retentionBounds(policy: RetentionPolicy, now: number): RetentionBounds | undefined {
  const cutoff = policy.maxAgeMs === undefined ? undefined : now - policy.maxAgeMs;
  const keep = policy.keepVersions === undefined ? undefined : Math.max(0, Math.floor(policy.keepVersions));
  return cutoff === undefined && keep === undefined ? undefined : { cutoff, keep };
}

/**
 * A retention run: `pruneClients` (rows with no mid), then nothing more when the policy removes
 * nothing, else `pruneScope` for each scope, one transaction each (atomic per scope, and other
 * work interleaves between scopes).
 */
export async function pruneScopes(
  policy: RetentionPolicy,
  now: number,
  listScopes: () => Promise<readonly string[]>,
  pruneScope: (scope: string, bounds: RetentionBounds) => Promise<Omit<PruneStats, 'clientsRemoved'>>,
  pruneClients: () => Promise<number>,
): Promise<PruneStats> {
  let historyRemoved = 0;
  let tombstonesRemoved = 0;
  const clientsRemoved = await pruneClients();
  const bounds = retentionBounds(policy, now);
  if (!bounds) return { historyRemoved, tombstonesRemoved, clientsRemoved };
  for (const scope of await listScopes()) {
    const removed = await pruneScope(scope, bounds);
    historyRemoved += removed.historyRemoved;
    tombstonesRemoved += removed.tombstonesRemoved;
  }
  return { historyRemoved, tombstonesRemoved, clientsRemoved };
}

/**
 * Every row `fetchPage` yields, page by page in (collection, id) order: `after` is the last row
 * of the previous page (undefined for the first). No connection or snapshot is held between
 * pages, so a consumer that writes while iterating cannot deadlock the storage.
 */
export async function* pagedRows(
  pageSize: number,
  fetchPage: (after: RecordRow | undefined) => Promise<RecordRow[]>,
): AsyncGenerator<RecordRow, void, undefined> {
  let last: RecordRow | undefined;
  for (;;) {
    const page = await fetchPage(last);
    yield* page;
    last = page[page.length - 1];
    if (page.length < pageSize) return;
  }
}

/** Runs a transaction's `onCommit`; the commit stands whatever it does. */
export function runOnCommit<T>(onCommit: ((result: T) => void) | undefined, result: T): void {
  try {
    onCommit?.(result);
  } catch {
    // The contract says onCommit must not throw.
  }
}
