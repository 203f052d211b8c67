/**
 * The engine's types: its options, its phases and the state it publishes (`state$`). Beside
 * `sync-engine.ts` so the machines next to the loop can name them without importing it.
 */
import type { Limits, SyncError } from '@syncline/protocol';
import type { LocalStore } from '../store/local-store.js';
import type { BackoffPolicy } from './backoff.js';
import type { NetworkStatus, Visibility } from './environment.js';

export type SyncPhase =
  | 'stopped'
  | 'offline'
  | 'paused'
  | 'connecting'
  | 'backoff'
  | 'subscribing'
  | 'pulling'
  | 'pushing'
  | 'live';

export interface EngineOptions {
  readonly urls: readonly string[];
  readonly clientId: string;
  readonly token?: string | (() => string | Promise<string>) | undefined;
  readonly path?: string | undefined;
  readonly scopes: readonly string[];
  readonly store: LocalStore;
  readonly network: NetworkStatus;
  readonly visibility: Visibility;
  readonly backoff: BackoffPolicy;
  readonly now: () => number;
  readonly random: () => number;
  readonly limits: Pick<Limits, 'maxMutationsPerPush' | 'maxPayloadBytes'>;
  readonly requestTimeoutMs: number;
  readonly pullPageSize: number;
  /** Merge queued edits of one record into one mutation when a push is cut (`coalesce.ts`). */
  readonly coalesce: boolean;
  /** Called after every applied batch (status refresh). */
  readonly onActivity: () => void;
  /**
   * Checked before every push is sent: false when this tab no longer leads (another tab took
   * the lease over while this one was frozen), and then nothing is sent.
   */
  readonly fence?: () => Promise<boolean>;
}

export interface EngineState {
  readonly phase: SyncPhase;
  readonly connected: boolean;
  readonly lastSyncedAt: number | null;
  readonly lastError: SyncError | null;
  /** Pull progress per scope, in versions: from the cursor the pull began at to the head. */
  readonly progress: Readonly<Record<string, PullProgress>>;
}

/** One scope's pull, in versions: it began at `from`, has reached `cursor`, catches up to `head`. */
export interface PullProgress {
  readonly from: number;
  readonly cursor: number;
  readonly head: number;
  readonly done: boolean;
}
