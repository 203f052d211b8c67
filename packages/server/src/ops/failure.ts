import { syncError, type SyncError } from '@syncline/protocol';

/** True when an exception comes from the storage backend (SQLite, PostgreSQL, the network to it). */
export function isStorageFailure(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return (
    e !== null &&
    typeof e === 'object' &&
    (e.name === 'SqliteError' || (typeof e.code === 'string' && /^(SQLITE_|ECONN|57P|08)/.test(e.code)))
  );
}

/** Maps an unexpected failure to a wire error without leaking internals. Nothing was applied. */
export function failureOf(err: unknown): SyncError {
  return isStorageFailure(err)
    ? syncError('storage_unavailable', 'storage failed; nothing was applied, retry later')
    : syncError('internal', 'internal error; nothing was applied, retry later');
}
