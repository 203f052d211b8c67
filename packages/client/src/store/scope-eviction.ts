import type { Dexie } from 'dexie';
import type { Subscription } from 'rxjs';
import { asScopeId } from '@syncline/protocol';
import type { LocalStore } from './local-store.js';
import { liveOutboxMids } from './live-queries.js';

/**
 * Evicts the local rows of scopes the client no longer syncs. Rows with pending mutations stay
 * until those are answered (their changes must still reach the server): the outbox is watched
 * and the eviction repeated on each change until nothing of the scope is left.
 */
export class ScopeEviction {
  readonly #evicting = new Set<string>();
  #watch: Subscription | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Dexie,
    private readonly store: LocalStore,
  ) {}

  /** Scopes `removed` are to be evicted; scopes in `current` (subscribed again) are not. */
  update(removed: readonly string[], current: readonly string[]): void {
    for (const s of current) this.#evicting.delete(s);
    for (const s of removed) this.#evicting.add(s);
    if (this.#evicting.size === 0) return this.stop();
    if (this.#watch) return void this.#evict();
    // Runs now, then again whenever the outbox changes (an answered mutation frees its record).
    this.#watch = liveOutboxMids(this.db, { upTo: Infinity }).subscribe(() => void this.#evict());
  }

  /** Resolves once the evictions queued so far have run (for tests and `close()`). */
  settled(): Promise<void> {
    return this.#running;
  }

  stop(): void {
    this.#watch?.unsubscribe();
    this.#watch = undefined;
  }

  #evict(): Promise<void> {
    this.#running = this.#running.then(async () => {
      for (const scope of [...this.#evicting]) {
        try {
          // Checked inside the transaction: a scope subscribed again meanwhile is left alone.
          const left = await this.store.evictScope(asScopeId(scope), () => this.#evicting.has(scope));
          // Re-added meanwhile: keep whatever the next pull brings.
          if (left === 0) this.#evicting.delete(scope);
        } catch {
          // The database closed, or a transaction failed: the next outbox change tries again.
        }
      }
      if (this.#evicting.size === 0) this.stop();
    });
    return this.#running;
  }
}
