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
  /**
   * The first sync of the current scopes, in versions: done once every scope has been pulled
   * to its head at least once (kept across reloads, so a copy synced earlier is done at once).
   */
  readonly initialSync: InitialSyncProgress;
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

/** Progress of one scope's (or all current scopes') first sync, in versions. */
export interface SyncProgress {
  /** Versions pulled so far in this pull. */
  readonly pulled: number;
  /** Versions this pull has to cover (from where it began to the head). */
  readonly total: number;
  /** `pulled / total` from 0 to 1, and 1 once done: ready for a progress bar. */
  readonly fraction: number;
  readonly done: boolean;
}

export interface InitialSyncProgress extends SyncProgress {
  /** Per current scope; `head` is the newest version known (the local cursor in follower tabs). */
  readonly scopes: Readonly<Record<string, SyncProgress & { readonly head: number }>>;
}
