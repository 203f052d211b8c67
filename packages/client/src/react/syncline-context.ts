import { createContext } from 'react';
import type { SyncClient } from '../sync-client.js';

/** The client given to the nearest `SynclineProvider` (null outside any). Internal. */
export const SynclineContext = createContext<SyncClient | null>(null);
SynclineContext.displayName = 'SynclineContext';
