import type { Clock } from '../ops/clock.js';

/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`; each event takes
 * one. Time comes from the injected clock.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Takes a token if one is available. */
  tryTake(): boolean {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.ratePerSecond);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
