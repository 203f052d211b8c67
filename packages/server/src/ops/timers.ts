/** An opaque handle of a scheduled callback (whatever the `Timers` implementation returns). */
export type TimerHandle = unknown;

/**
 * Injected timers for background work (webhook retries, change-feed polls and heartbeats,
 * telemetry bookkeeping), so tests can drive time instead of sleeping. Pair with `Clock`.
 */
export interface Timers {
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer set with `setTimeout`; a fired or cancelled one is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Real timers. They are unref'd: background work never keeps a process alive on its own (the
 * HTTP server does while it listens, and `close()` cancels what is pending).
 */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
