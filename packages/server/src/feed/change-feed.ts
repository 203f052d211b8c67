import {
  asVersion,
  syncError,
  type FeedChange,
  type ScopeId,
  type SyncError,
  type Version,
} from '@syncline/protocol';
import type { Timers } from '../ops/timers.js';
import type { StoredHistoryEntry, SyncStorage } from '../storage/storage.js';
import type { CommitBus } from '../sync/commit-bus.js';

export interface ChangeFeedDeps {
  readonly storage: SyncStorage;
  readonly commits: CommitBus;
  readonly timers: Timers;
  /**
   * How often an idle reader re-reads storage. Commits on this node wake readers at once; the
   * poll picks up commits made by other nodes sharing the storage.
   */
  readonly pollIntervalMs: number;
  /** History entries read per storage call. */
  readonly pageSize: number;
}

/**
 * What a change-feed reader yields: each committed change, and once, `caught_up` when the
 * backlog (everything up to the head at that moment) has been delivered.
 */
export type FeedEvent =
  | { readonly type: 'change'; readonly change: FeedChange }
  | { readonly type: 'caught_up'; readonly version: Version };

/** A change feed that cannot go on; `error.code` says why (see `readChangeFeed`). */
export class ChangeFeedError extends Error {
  constructor(
    readonly error: SyncError,
    options?: { readonly cause?: unknown },
  ) {
    super(`${error.code}: ${error.message}`, options);
    this.name = 'ChangeFeedError';
  }
}

/** A history entry as the feed publishes it (exactly the `FeedChange` fields). */
export function toFeedChange(e: StoredHistoryEntry): FeedChange {
  return {
    scope: e.scope,
    collection: e.collection,
    id: e.id,
    version: e.version,
    prevVersion: e.prevVersion,
    op: e.op,
    value: e.value,
    clientId: e.clientId,
    mid: e.mid,
    userId: e.userId,
    serverTime: e.serverTime,
    conflict: e.conflict,
    restoredFrom: e.restoredFrom,
  };
}

const unavailable = (message: string, details: Record<string, unknown>) =>
  new ChangeFeedError(syncError('cursor_unavailable', message, details));

/**
 * Reads `scope`'s committed changes with `version > after`, in version order, each exactly once.
 *
 * The source is the scope's history (one entry per version, see `SyncStorage.scopeHistory`),
 * not pull pages: a pull returns each record's latest state, so it would skip intermediate
 * changes. The reader pages through the backlog, yields `caught_up` once, then (with `follow`)
 * waits for new commits — woken by this node's commit bus, or by a poll every `pollIntervalMs`
 * for other nodes' commits — and reads them from storage too, so live changes arrive in the
 * same order and shape, with no duplicate or gap at the switch.
 *
 * It checks continuity: the next change must be `cursor + 1`. If retention removed entries the
 * feed needs, or `after` is above the head (a restored database), it throws a `ChangeFeedError`
 * with `cursor_unavailable` at that point, after every change before it; `details.resumeAfter`
 * is where the retained history continues, for a consumer that re-snapshots and goes on.
 *
 * Ends when `signal` aborts (or, without `follow`, after `caught_up`). A consumer that stops
 * early may also just `return()` the generator.
 */
export async function* readChangeFeed(
  deps: ChangeFeedDeps,
  scope: ScopeId,
  after: number,
  opts: { readonly signal: AbortSignal; readonly follow: boolean },
): AsyncGenerator<FeedEvent, void, undefined> {
  const { signal } = opts;
  let cursor = after;
  let dirty = true;
  let wake: (() => void) | undefined;
  const poke = () => {
    dirty = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unsubscribe = deps.commits.subscribe((event) => {
    if (event.changes.some((c) => c.scope === scope)) poke();
  });
  signal.addEventListener('abort', poke);
  let caughtUp = false;
  try {
    while (!signal.aborted) {
      dirty = false;
      const page = await deps.storage.scopeHistory(scope, asVersion(cursor), deps.pageSize);
      if (signal.aborted) return;
      if (cursor > page.head) {
        throw unavailable(`cursor ${cursor} is ahead of the scope's head ${page.head}`, {
          after: cursor,
          head: page.head,
        });
      }
      for (const entry of page.entries) {
        if (entry.version !== cursor + 1) {
          throw unavailable(`versions ${cursor + 1}–${entry.version - 1} were removed by retention`, {
            after: cursor,
            resumeAfter: entry.version - 1,
          });
        }
        yield { type: 'change', change: toFeedChange(entry) };
        cursor = entry.version;
        if (signal.aborted) return;
      }
      if (page.hasMore) continue;
      if (cursor < page.head) {
        throw unavailable(`versions ${cursor + 1}–${page.head} were removed by retention`, {
          after: cursor,
          resumeAfter: page.head,
        });
      }
      if (!caughtUp) {
        caughtUp = true;
        yield { type: 'caught_up', version: asVersion(cursor) };
        if (!opts.follow) return;
      }
      if (dirty || signal.aborted) continue;
      await new Promise<void>((resolve) => {
        const timer = deps.timers.setTimeout(poke, deps.pollIntervalMs);
        wake = () => {
          deps.timers.clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', poke);
    const w = wake;
    wake = undefined;
    w?.();
  }
}
