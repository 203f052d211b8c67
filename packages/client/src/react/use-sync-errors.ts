import { scan, startWith } from 'rxjs';
import type { SyncErrorEvent } from '../client-observables.js';
import { useObservable } from './use-observable.js';
import { useSyncClient } from './use-sync-client.js';

const NONE: readonly SyncErrorEvent[] = [];

/**
 * The client's recent sync errors (`client.errors$`), oldest first, at most `limit` (default
 * 10): each with its code, message, whether it is retryable, and when. Empty until one happens;
 * re-renders only when an error arrives.
 */
export function useSyncErrors(limit = 10): readonly SyncErrorEvent[] {
  const client = useSyncClient();
  const errors = useObservable(
    () =>
      client.errors$.pipe(
        scan((list: readonly SyncErrorEvent[], e) => [...list, e].slice(-Math.max(1, limit)), []),
        startWith<readonly SyncErrorEvent[]>([]),
      ),
    [client, limit],
  );
  return errors ?? NONE;
}
