import type { PruneStats, RetentionPolicy, SyncStorage } from '../storage/storage.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

/** The `retention` option: a policy and how often to apply it. */
export type RetentionOption = RetentionPolicy & { readonly intervalMs?: number };

/** Applying the retention policy: on demand, and on a timer while the server runs. */
export interface Retention {
  /** Applies the policy now (an empty policy when none is configured) and logs what it pruned. */
  readonly prune: () => Promise<PruneStats>;
  /** Stops the timer; a prune already running finishes. */
  readonly stop: () => void;
}

/**
 * Prunes history and tombstones every `intervalMs` (default hourly) when a policy is set. The
 * timer is unref'd so it never keeps the process alive, and a failed round is logged and
 * retried at the next tick.
 */
export function startRetention(
  storage: Pick<SyncStorage, 'prune'>,
  retention: RetentionOption | undefined,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Retention {
  const prune = async () => {
    const { intervalMs: _interval, ...policy } = retention ?? {};
    const stats = await storage.prune(policy, deps.clock.now());
    deps.logger.info('retention applied', { ...stats });
    return stats;
  };
  const timer = retention
    ? setInterval(
        () => void prune().catch((err: unknown) => deps.logger.error('retention failed', { err })),
        retention.intervalMs ?? 3_600_000,
      )
    : undefined;
  timer?.unref();
  return {
    prune,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
