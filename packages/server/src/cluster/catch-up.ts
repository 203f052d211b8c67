import type { Logger } from '../ops/logger.js';
import type { Timers, TimerHandle } from '../ops/timers.js';
import type { SyncStorage } from '../storage/storage.js';
import { announceHeads } from '../transport/announce-heads.js';
import type { SyncIo } from '../transport/context.js';
import type { ClusterFanout } from './cluster-fanout.js';

export interface CatchUpDeps {
  readonly cluster: ClusterFanout;
  readonly io: SyncIo;
  readonly storage: SyncStorage;
  readonly logger: Logger;
  readonly timers: Timers;
}

/** Longest pause between two attempts while storage is still failing. */
const MAX_RETRY_MS = 10_000;

/**
 * After each reconnection of the fan-out, re-announces the heads of this node's scope rooms
 * (`announceHeads`), so clients learn of changes whose broadcasts were lost while it was down.
 * The database often comes back together with the connection, so a failing attempt is retried
 * with backoff until it succeeds, a newer reconnection supersedes it, or `stop()`.
 */
export function startCatchUp(deps: CatchUpDeps): { stop(): void } {
  let timer: TimerHandle;
  let round = 0;
  let stopped = false;

  const attempt = (myRound: number, n: number) => {
    if (stopped || myRound !== round) return;
    announceHeads(deps.io, deps.storage).then(
      (rooms) => deps.logger.info('re-announced scope heads after fan-out reconnect', { rooms }),
      (err: unknown) => {
        if (stopped || myRound !== round) return;
        const delay = Math.min(MAX_RETRY_MS, 250 * 2 ** n);
        deps.logger.warn('re-announcing scope heads failed; retrying', { err, retryInMs: delay });
        timer = deps.timers.setTimeout(() => attempt(myRound, n + 1), delay);
      },
    );
  };

  const off = deps.cluster.onReconnect(() => {
    deps.timers.clearTimeout(timer);
    attempt(++round, 0);
  });
  return {
    stop: () => {
      stopped = true;
      off();
      deps.timers.clearTimeout(timer);
    },
  };
}
