import {
  addToScopeSum,
  asVersion,
  scopeHashHex,
  scopeRecordDigest,
  type ScopeId,
  type Version,
} from '@syncline/protocol';
import type { SyncStorage } from './storage.js';

/** A scope's content hash at a head version (the answer of the protocol's `hash`). */
export interface ScopeHashState {
  /** 64 lowercase hex characters, as `ScopeHasher.digest()`. */
  readonly hash: string;
  /** Live (non-tombstone) records. */
  readonly count: number;
  /** The version the hash is of. */
  readonly head: Version;
}

interface Entry {
  /** Every record change up to this version is folded into `sum`. */
  head: number;
  sum: bigint;
  /** Each live record's term of the sum, by record key, so a change can take it out again. */
  readonly terms: Map<string, bigint>;
  /** The run in progress, so concurrent callers never fold the same page twice. */
  running: Promise<ScopeHashState> | undefined;
}

export interface ScopeHashCacheOptions {
  /** Scopes kept (least recently hashed evicted first). Default 64. */
  readonly maxScopes?: number;
  /** Records read per `pull` page while catching up. Default 1000. */
  readonly pageSize?: number;
}

const keyOf = (collection: string, id: string): string => JSON.stringify([collection, id]);

/**
 * The scope hash, maintained incrementally per scope from the storage's change order: the first
 * call walks the scope once; later calls read only the records changed since the cached head
 * (`pull(scope, head)`: an unchanged scope costs one empty indexed read, a change costs work
 * proportional to the change). It reads storage and nothing else, so it stays correct when
 * several nodes write the same database: whatever another node committed has a higher version
 * and is folded in on the next call. When retention removed a tombstone above the cached head
 * (the horizon rose past it), that delete can no longer be seen, so the scope is walked again.
 */
export class ScopeHashCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxScopes: number;
  readonly #pageSize: number;

  constructor(
    private readonly storage: Pick<SyncStorage, 'pull'>,
    opts: ScopeHashCacheOptions = {},
  ) {
    this.#maxScopes = Math.max(1, opts.maxScopes ?? 64);
    this.#pageSize = Math.max(1, opts.pageSize ?? 1000);
  }

  /** The scope's hash, live record count and the head they are of (head 0 for an unknown scope). */
  async hash(scope: ScopeId): Promise<ScopeHashState> {
    let entry = this.#entries.get(scope);
    if (entry) this.#entries.delete(scope);
    entry ??= { head: 0, sum: 0n, terms: new Map(), running: undefined };
    // Re-inserted last: Map order is the recency order the eviction reads.
    this.#entries.set(scope, entry);
    for (const [old] of this.#entries) {
      if (this.#entries.size <= this.#maxScopes) break;
      this.#entries.delete(old);
    }
    while (entry.running) await entry.running.catch(() => undefined);
    const run = this.#catchUp(scope, entry);
    entry.running = run;
    try {
      return await run;
    } finally {
      entry.running = undefined;
    }
  }

  async #catchUp(scope: ScopeId, entry: Entry): Promise<ScopeHashState> {
    for (;;) {
      const page = await this.storage.pull(scope, asVersion(entry.head), this.#pageSize);
      if (entry.head > 0 && page.horizon > entry.head) {
        // A delete above our head was pruned with its tombstone: start over from nothing.
        entry.head = 0;
        entry.sum = 0n;
        entry.terms.clear();
        continue;
      }
      for (const r of page.records) {
        const key = keyOf(r.collection, r.id);
        const old = entry.terms.get(key);
        if (old !== undefined) {
          entry.sum = addToScopeSum(entry.sum, old, -1);
          entry.terms.delete(key);
        }
        if (r.value !== null) {
          const term = scopeRecordDigest(r.collection, r.id, r.value);
          entry.sum = addToScopeSum(entry.sum, term);
          entry.terms.set(key, term);
        }
      }
      const last = page.records[page.records.length - 1];
      entry.head = page.hasMore && last ? last.version : Math.max(entry.head, page.head);
      if (!page.hasMore) {
        return { hash: scopeHashHex(entry.sum), count: entry.terms.size, head: asVersion(entry.head) };
      }
    }
  }
}
