/**
 * A FIFO async mutex: `run` calls execute one at a time in call order. Used by single-connection
 * backends (memory, SQLite) to serialize transactions whose bodies await.
 */
export class AsyncMutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    // The chain continues whether `fn` succeeds or fails; the caller sees the failure.
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every call made so far has finished. */
  async drain(): Promise<void> {
    await this.#tail;
  }
}
