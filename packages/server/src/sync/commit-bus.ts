import type { WriteSource } from '../ops/metrics.js';
import type { StoredHistoryEntry } from '../storage/storage.js';

/** One storage commit's changes, published right after the commit. */
export interface CommitEvent {
  /** The committed changes in commit order (ascending versions within each scope). */
  readonly changes: readonly StoredHistoryEntry[];
  readonly source: WriteSource;
  /** `performance.now()` when the commit was seen, for latency metrics. */
  readonly committedAt: number;
  /** The socket that pushed it: live fan-out skips it (its push response names the commit). */
  readonly origin?: string;
}

export type CommitListener = (event: CommitEvent) => void;

/**
 * The in-process hub every committed write goes through: live fan-out, change-feed readers and
 * webhooks subscribe to it. `publish` runs inside the storage's `onCommit`, so listeners see
 * commits in commit order; they must be quick and synchronous (queue any I/O). A throwing
 * listener is reported and skipped, never allowed to disturb the others or the write path.
 *
 * Only commits made by this node pass through here; readers that must see other nodes' commits
 * too (the change feed) also poll storage.
 */
export class CommitBus {
  readonly #listeners = new Set<CommitListener>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  /** Adds a listener; returns its removal. */
  subscribe(listener: CommitListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(event: CommitEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
