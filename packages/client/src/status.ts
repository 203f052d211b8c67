import type { SyncError } from '@syncline/protocol';
import type { SyncPhase } from './engine/sync-engine.js';
import type { AdoptionProgress } from './store/adopt-existing.js';

/** Everything a UI shows about sync, as one value (see `SyncClient.status$`). */
export interface SyncStatus {
  /** The network is up (as far as the platform or the injected status knows). */
  readonly online: boolean;
  /** This tab's engine has a live socket (false in follower tabs). */
  readonly connected: boolean;
  readonly phase: SyncPhase;
  /** True in the tab that runs sync for this database. */
  readonly isLeader: boolean;
  /** Mutations waiting in the outbox (all tabs). */
  readonly pending: number;
  /** When the oldest pending mutation was made, ms since the epoch. */
  readonly oldestPendingAt: number | null;
  readonly lastSyncedAt: number | null;
  /** Initial sync: done once every scope has been pulled to its head at least once. */
  readonly initialSync: {
    readonly done: boolean;
    readonly pulled: number;
    readonly scopes: Readonly<
      Record<string, { readonly pulled: number; readonly head: number; readonly done: boolean }>
    >;
  };
  readonly conflicts: number;
  readonly rejections: number;
  readonly lastError: SyncError | null;
  /**
   * While the leader uploads rows that were in a synced table before it was synced (see
   * docs/adopting-existing-data.md): the table, rows examined of the total, rows skipped. The
   * engine connects once it is done; null otherwise.
   */
  readonly adoption: AdoptionProgress | null;
}
