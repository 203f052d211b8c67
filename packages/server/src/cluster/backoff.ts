import type { TimerHandle, Timers } from '../ops/timers.js';

/** Delays between attempts: doubling from `minMs` up to `maxMs`. */
export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  /**
   * Each delay scaled by a random factor in [0.5, 1), so nodes that lost one server together do
   * not all come back at the same instant.
   */
  readonly jitter: boolean;
}

/** The delay before attempt `attempt + 1` (the first delay is `attempt` 0). */
export function backoffDelay(policy: Backoff, attempt: number, random: () => number = Math.random): number {
  const delay = Math.min(policy.maxMs, policy.minMs * 2 ** attempt);
  return policy.jitter ? delay * (0.5 + random() / 2) : delay;
}

export interface RetryLoopOptions {
  /** One try: resolves on success, rejects to be tried again after the next delay. */
  readonly attempt: () => Promise<void>;
  readonly backoff: Backoff;
  readonly timers: Timers;
  /** Runs after a failed attempt (not once stopped), with the delay before the next. */
  readonly onFailure: (err: unknown, retryInMs: number) => void;
  /** Runs once, right after the attempt that succeeded (not once stopped). */
  readonly onSuccess?: () => void;
  /** Waits one delay before the first attempt (after a loss, the server is often restarting). */
  readonly pauseFirst?: boolean;
  readonly random?: () => number;
}

/** A running retry loop. */
export interface RetryLoop {
  /** Settles when the loop ends: true after a success, false when stopped first. */
  readonly done: Promise<boolean>;
  /** Ends the loop (a pending delay is cut short); resolves once the attempt in progress settled. */
  stop(): Promise<void>;
}

/**
 * Tries `attempt` until it succeeds or `stop()`, waiting `backoff` between tries; the n-th delay
 * of a loop is `backoffDelay(backoff, n)`, whatever earlier loops did.
 */
export function startRetryLoop(options: RetryLoopOptions): RetryLoop {
  let stopped = false;
  let n = 0;
  let timer: TimerHandle;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = options.timers.setTimeout(resolve, ms);
    });
  const run = async (): Promise<boolean> => {
    if (options.pauseFirst) await pause(backoffDelay(options.backoff, n++, options.random));
    while (!stopped) {
      try {
        await options.attempt();
      } catch (err) {
        if (stopped) return false;
        const delay = backoffDelay(options.backoff, n++, options.random);
        options.onFailure(err, delay);
        await pause(delay);
        continue;
      }
      if (stopped) return false;
      options.onSuccess?.();
      return true;
    }
    return false;
  };
  const done = run();
  return {
    done,
    stop: async () => {
      stopped = true;
      options.timers.clearTimeout(timer);
      wake?.();
      await done;
    },
  };
}

/**
 * Timers the fan-out's own loops use: the process's, kept referenced as before (a pending
 * reconnection keeps the process alive), and looked up at call time so tests can fake them.
 */
export const processTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
