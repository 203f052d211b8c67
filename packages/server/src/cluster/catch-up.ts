import type { Logger } from '../ops/logger.js';
import type { Timers } from '../ops/timers.js';
import type { SyncStorage } from '../storage/storage.js';
import { announceHeads } from '../transport/announce-heads.js';
import type { SyncIo } from '../transport/context.js';
import { startRetryLoop, type Backoff, type RetryLoop } from './backoff.js';
import type { ClusterFanout } from './cluster-fanout.js';

export interface CatchUpDeps {
  readonly cluster: ClusterFanout;
  readonly io: SyncIo;
  readonly storage: SyncStorage;
  readonly logger: Logger;
  readonly timers: Timers;
}

/** Pauses between attempts while storage is still failing: doubling from 250 ms to 10 s. */
const RETRY: Backoff = { minMs: 250, maxMs: 10_000, jitter: false };

/**
 * After each reconnection of the fan-out, re-announces the heads of this node's scope rooms
 * (`announceHeads`), so clients learn of changes whose broadcasts were lost while it was down.
 * The database often comes back together with the connection, so a failing attempt is retried
 * with backoff until it succeeds, a newer reconnection supersedes it, or `stop()`.
 */
export function startCatchUp(deps: CatchUpDeps): { stop(): void } {
  let current: RetryLoop | undefined;
  const off = deps.cluster.onReconnect(() => {
    void current?.stop();
    current = startRetryLoop({
      attempt: async () => {
        const rooms = await announceHeads(deps.io, deps.storage);
        deps.logger.info('re-announced scope heads after fan-out reconnect', { rooms });
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
      void current?.stop();
    },
  };
}
