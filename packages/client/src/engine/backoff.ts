/**
 * Capped exponential backoff with full jitter: attempt n waits a random time in
 * [0, min(cap, base · 2^n)], so a fleet of clients reconnecting after an outage spreads out.
 */
export interface BackoffPolicy {
  /** Ceiling of the first retry's wait, doubled for each further attempt. */
  readonly baseMs: number;
  /** Longest wait between two attempts. */
  readonly capMs: number;
}

/** 250 ms doubling up to 30 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };

/** The wait before attempt `attempt` (0 for the first retry), drawn with `random` in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * random());
}
