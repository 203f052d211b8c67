import type { PresenceMember } from '../presence/client-presence.js';
import { useObservable } from './use-observable.js';
import { useSyncClient } from './use-sync-client.js';

const NONE: readonly PresenceMember[] = [];

/**
 * Every tab present in `scope` (`client.presence$(scope)`): others as the server reports them,
 * this tab's own entry marked `self`. Watching the scope starts on mount and stops on unmount.
 * Publish this tab's own entry with `client.setPresence(scope, state)`.
 */
export function usePresence(scope: string): readonly PresenceMember[] {
  const client = useSyncClient();
  return useObservable(() => client.presence$(scope), [client, scope], NONE);
}
