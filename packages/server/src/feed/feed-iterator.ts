import { ScopeIdSchema, syncError } from '@syncline/protocol';
import { failureOf, isStorageFailure } from '../ops/failure.js';
import type { ServerMetrics } from '../ops/metrics.js';
import { decodeFeedChange, type AppFeedChange } from '../sync/app-values.js';
import { ChangeFeedError, readChangeFeed, type ChangeFeedDeps } from './change-feed.js';

export interface ChangeFeedOptions {
  /** Deliver changes with a version above this cursor (default 0: the whole retained history). */
  readonly after?: number;
  /** Keep following live commits after catching up (default true); false ends at the head. */
  readonly follow?: boolean;
  /** Ends the iteration (cleanly, no error) when aborted. */
  readonly signal?: AbortSignal;
  /** Called once when the backlog is delivered, with the version reached. */
  readonly onCaughtUp?: (version: number) => void;
}

/**
 * The Node API of the change feed (`SyncServer.changes`): an async iterator over a scope's
 * committed changes, each exactly once and in version order (see `readChangeFeed`), values
 * decoded (`Date`, `Uint8Array`, `ArrayBuffer`). Store the
 * last `version` you processed and pass it as `after` to resume without loss or duplicates.
 *
 * Throws `ChangeFeedError` (with `error.code`): `invalid_message` for a bad scope or cursor,
 * `cursor_unavailable` when retention removed history the feed needs, `storage_unavailable`.
 * Ends without error when `signal` aborts, the server closes, or (`follow: false`) at the head.
 */
export async function* changeFeedIterator(
  deps: ChangeFeedDeps,
  metrics: ServerMetrics,
  closing: AbortSignal,
  scope: string,
  opts: ChangeFeedOptions = {},
): AsyncGenerator<AppFeedChange, void, undefined> {
  const parsed = ScopeIdSchema.safeParse(scope);
  if (!parsed.success)
    throw new ChangeFeedError(syncError('invalid_message', `invalid scope "${scope.slice(0, 64)}"`));
  const after = opts.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new ChangeFeedError(syncError('invalid_message', 'after must be an integer ≥ 0'));
  }
  const signal = AbortSignal.any(opts.signal ? [closing, opts.signal] : [closing]);
  metrics.feedStreams.inc({ api: 'node' });
  try {
    for await (const event of readChangeFeed(deps, parsed.data, after, {
      signal,
      follow: opts.follow ?? true,
    })) {
      if (event.type === 'caught_up') {
        opts.onCaughtUp?.(event.version);
        continue;
      }
      metrics.feedChanges.inc({ api: 'node' });
      yield decodeFeedChange(event.change);
    }
  } catch (err) {
    if (err instanceof ChangeFeedError) throw err;
    if (isStorageFailure(err)) metrics.storageErrors.inc({ operation: 'change_feed' });
    throw new ChangeFeedError(failureOf(err), { cause: err });
  } finally {
    metrics.feedStreams.dec({ api: 'node' });
  }
}
