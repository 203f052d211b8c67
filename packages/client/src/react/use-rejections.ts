import { useCallback, useMemo } from 'react';
import type { RejectionEntry } from '../store/schema.js';
import { useObservable } from './use-observable.js';
import { useSyncClient } from './use-sync-client.js';

export interface UseRejectionsResult {
  /**
   * Mutations the server refused for good (already rolled back locally), each with its error
   * code and message, oldest first; `undefined` until loaded.
   */
  readonly rejections: readonly RejectionEntry[] | undefined;
  /** Removes the rejection of mutation `mid` once the user has seen it. Stable across renders. */
  readonly dismiss: (mid: number) => Promise<void>;
}

/** The client's rejected mutations (`client.rejections$`) and a way to dismiss them. */
export function useRejections(): UseRejectionsResult {
  const client = useSyncClient();
  const rejections = useObservable(() => client.rejections$, [client]);
  const dismiss = useCallback((mid: number) => client.dismissRejection(mid), [client]);
  return useMemo(() => ({ rejections, dismiss }), [rejections, dismiss]);
}
