/**
 * How the engine's loop waits: until it is woken (work was recorded: a scope to pull, the
 * outbox grew, the network came back) or, for a backoff, until its timer fires. There is one
 * sleeper, the loop. A wake with nobody asleep is dropped on purpose: the loop looks at the
 * recorded work before each sleep, so nothing recorded is missed.
 */
export class WakeSignal {
  #wake: (() => void) | undefined;

  /** Wakes the loop if it sleeps (ending a backoff early). */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Resolves at the next `wake()`, or after `ms` when given, whichever comes first. */
  sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake(), ms);
      this.#wake = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
    });
  }
}
