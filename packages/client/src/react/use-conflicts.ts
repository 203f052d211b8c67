import { useCallback, useMemo } from 'react';
import type { AppConflictEntry as ConflictEntry } from '../app-values.js';
import type { ConflictResolution } from '../sync-client.js';
import { useObservable } from './use-observable.js';
import { useSyncClient } from './use-sync-client.js';

export interface UseConflictsResult {
  /** Manual-strategy conflicts waiting for the user, oldest first; `undefined` until loaded. */
  readonly conflicts: readonly ConflictEntry[] | undefined;
  /**
   * Settles the conflict of mutation `mid` (see `ConflictResolution`): `'mine'` writes this
   * client's changed fields on the server's version, `'theirs'` keeps the server's, `{ fields }`
   * takes a side per field, `{ value }` writes the fields that differ (null deletes). Only chosen
   * fields are written, never counters. The conflict leaves the list once settled. Stable
   * across renders.
   */
  readonly resolve: (mid: number, resolution: ConflictResolution) => Promise<void>;
}

/** The client's pending manual conflicts (`client.conflicts$`) and a way to resolve them. */
export function useConflicts(): UseConflictsResult {
  const client = useSyncClient();
  const conflicts = useObservable(() => client.conflicts$, [client]);
  const resolve = useCallback(
    (mid: number, resolution: ConflictResolution) => client.resolveConflict(mid, resolution),
    [client],
  );
  return useMemo(() => ({ conflicts, resolve }), [conflicts, resolve]);
}
