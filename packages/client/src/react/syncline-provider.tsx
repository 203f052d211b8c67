import type { ReactElement, ReactNode } from 'react';
import type { SyncClient } from '../sync-client.js';
import { SynclineContext } from './syncline-context.js';

export interface SynclineProviderProps {
  /** The app's sync client. The provider does not start or close it: its owner does. */
  readonly client: SyncClient;
  readonly children?: ReactNode;
}

/** Makes `client` available to the Syncline hooks (`useLiveQuery`, `useSyncStatus`, …) below it. */
export function SynclineProvider({ client, children }: SynclineProviderProps): ReactElement {
  return <SynclineContext.Provider value={client}>{children}</SynclineContext.Provider>;
}
