/** Injected time source, so tests can move time without sleeping. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Wall-clock time from `Date.now()`. */
export const systemClock: Clock = { now: () => Date.now() };
