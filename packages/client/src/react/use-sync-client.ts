import { useContext } from 'react';
import type { SyncClient } from '../sync-client.js';
import { SynclineContext } from './syncline-context.js';

/** The `SyncClient` of the nearest `SynclineProvider`; throws when there is none. */
export function useSyncClient(): SyncClient {
  const client = useContext(SynclineContext);
  if (client === null)
    throw new Error(
      'useSyncClient() (and every Syncline hook) must be used inside <SynclineProvider client={…}>',
    );
  return client;
}
