import type { ScopeId } from '@syncline/protocol';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { Timers } from '../ops/timers.js';
import type { SyncStorage } from '../storage/storage.js';
import type { CommitBus } from '../sync/commit-bus.js';
import { announceHeads } from '../transport/announce-heads.js';
import type { SyncIo } from '../transport/context.js';
import { startRetryLoop, type Backoff, type RetryLoop } from './backoff.js';
import type { ClusterFanout, ReconnectInfo } from './cluster-fanout.js';

export interface CatchUpDeps {
  readonly cluster: ClusterFanout;
  readonly io: SyncIo;
  readonly storage: SyncStorage;
  readonly commits: CommitBus;
  readonly logger: Logger;
  readonly timers: Timers;
  readonly clock: Clock;
}

/** Pauses between attempts while storage is still failing: doubling from 250 ms to 10 s. */
const RETRY: Backoff = { minMs: 250, maxMs: 10_000, jitter: false };
/**
 * A loss is noticed after it happened: commits this long before `downSince` may have been
 * published into a connection that was already dead.
 */
export const LOSS_MARGIN_MS = 5_000;
/** Scopes whose last commit time is remembered (the oldest are forgotten first). */
const TRACKED_SCOPES = 10_000;

/**
 * After each reconnection of the fan-out, re-announces scope heads (`announceHeads`) so clients
 * learn of changes whose broadcasts were lost while it was down: this node's rooms hear the heads
 * of what other nodes committed, and every node hears the heads of the scopes this node committed
 * to since shortly before the loss (other nodes may reconnect earlier and announce before those
 * commits). The database often comes back together with the connection, so a failing attempt is
 * retried with backoff until it succeeds, a newer reconnection supersedes it, or `stop()`.
 */
export function startCatchUp(deps: CatchUpDeps): { stop(): void } {
  const committedAt = new Map<ScopeId, number>();
  const offCommits = deps.commits.subscribe((event) => {
    const now = deps.clock.now();
    for (const change of event.changes) {
      committedAt.delete(change.scope); // re-inserted last: the map stays oldest first
      committedAt.set(change.scope, now);
    }
    for (const scope of committedAt.keys()) {
      if (committedAt.size <= TRACKED_SCOPES) break;
      committedAt.delete(scope);
    }
  });
  let current: RetryLoop | undefined;
  const off = deps.cluster.onReconnect((info?: ReconnectInfo) => {
    void current?.stop();
    // A fan-out that cannot say when it went down: every remembered scope.
    const since = info ? info.downSince - LOSS_MARGIN_MS : -Infinity;
    const owed = [...committedAt].filter(([, at]) => at >= since).map(([scope]) => scope);
    current = startRetryLoop({
      attempt: async () => {
        const scopes = await announceHeads(deps.io, deps.storage, owed);
        deps.logger.info('re-announced scope heads after fan-out reconnect', {
          scopes,
          toEveryNode: owed.length,
        });
      },
      backoff: RETRY,
      timers: deps.timers,
      onFailure: (err, retryInMs) =>
        deps.logger.warn('re-announcing scope heads failed; retrying', { err, retryInMs }),
    });
  });
  return {
    stop: () => {
      off();
      offCommits();
      void current?.stop();
    },
  };
}
