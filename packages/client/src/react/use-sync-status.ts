import type { SyncStatus } from '../status.js';
import { useObservable } from './use-observable.js';
import { useSyncClient } from './use-sync-client.js';

/**
 * The client's sync status (`client.status$`): online, connected, phase, pending mutations,
 * last synced, conflicts, initial-sync progress. `undefined` until the first status is known.
 */
export function useSyncStatus(): SyncStatus | undefined {
  const client = useSyncClient();
  return useObservable(() => client.status$, [client]);
}
