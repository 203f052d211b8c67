/**
 * The read-write IndexedDB transactions a leader tab has open for sync (the engine's
 * `LocalStore.remote` ones, the lease's renewals), so that a page about to freeze can abort them
 * (`abortAll`). A frozen page keeps an open transaction, and its locks, until it wakes: every
 * other tab's writes to those stores would wait. Each is atomic, so an aborted one changed
 * nothing; its work is done again later.
 */
export class OpenTransactions {
  readonly #open = new Set<IDBTransaction>();

  /** Watches `tx` until it completes or aborts. */
  track(tx: IDBTransaction): void {
    this.#open.add(tx);
    const done = () => this.#open.delete(tx);
    tx.addEventListener('complete', done);
    tx.addEventListener('abort', done);
  }

  /** Aborts every tracked transaction not finished yet; returns how many. */
  abortAll(): number {
    let aborted = 0;
    for (const tx of [...this.#open]) {
      this.#open.delete(tx);
      try {
        tx.abort();
        aborted++;
      } catch {
        // Already committing or finished: it holds nothing for long.
      }
    }
    return aborted;
  }
}
