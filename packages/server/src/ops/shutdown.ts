/**
 * A server's shutdown state: whether it is closing, a signal that aborts when it starts (change
 * feeds end, new HTTP API calls are refused), and the in-flight work it waits for (writes that
 * must still answer). The order of the steps in between belongs to the composition root.
 */
export class Shutdown {
  #closing = false;
  readonly #controller = new AbortController();
  readonly #inflight = new Set<Promise<unknown>>();

  /** True once `begin` ran. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Aborted by `begin`. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Registers in-flight work for `drain`; its outcome is the caller's, never thrown here. */
  readonly track = (work: Promise<unknown>): void => {
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work)).catch(() => undefined);
  };

  /** Starts shutting down; false when it had already started (close is idempotent). */
  begin(): boolean {
    if (this.#closing) return false;
    this.#closing = true;
    this.#controller.abort();
    return true;
  }

  /** Resolves once all work tracked so far has settled, however it ended. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
  }
}
