import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ClientId, CollectionName, RecordId, ScopeId, Version } from '@syncline/protocol';
import type {
  ClientRow,
  HistoryPage,
  PruneStats,
  PullPage,
  RetentionPolicy,
  StorageTx,
  StoredHistoryEntry,
  StoredRecord,
  SyncServer,
  SyncStorage,
} from '@syncline/server';

/** What a push transaction returned (the server's `applyPush` outcome), as far as tests read it. */
export interface CommitOutcome {
  readonly ok: boolean;
  readonly results?: readonly { readonly mid: number; readonly status: string }[];
}

/** Where an armed fault runs relative to the commit's own `onCommit` (the live broadcast). */
export type FaultTiming = 'before-broadcast' | 'after-broadcast';

/**
 * A delegating `SyncStorage` that can inject one fault right after a commit: `arm(fn)` makes
 * the next transaction that commits run `fn` inside its `onCommit` (before or after the
 * original callback, the live broadcast), so before `transaction()` resolves, i.e. before the
 * server answers the push. Every committed outcome is recorded in `outcomes`.
 */
export class FaultyStorage implements SyncStorage {
  readonly outcomes: CommitOutcome[] = [];
  #armed: { readonly fault: () => void; readonly timing: FaultTiming } | undefined;
  #fired = 0;

  constructor(readonly inner: SyncStorage) {}

  get kind(): string {
    return this.inner.kind;
  }

  /** How many armed faults have fired. */
  get fired(): number {
    return this.#fired;
  }

  /** Runs `fault` after the next commit, before its caller sees the result. */
  arm(fault: () => void, timing: FaultTiming = 'before-broadcast'): void {
    this.#armed = { fault, timing };
  }

  transaction<T>(fn: (tx: StorageTx) => Promise<T>, onCommit?: (result: T) => void): Promise<T> {
    return this.inner.transaction(fn, (result) => {
      this.outcomes.push(result as unknown as CommitOutcome);
      const armed = this.#armed;
      this.#armed = undefined;
      if (armed) this.#fired++;
      if (armed?.timing === 'before-broadcast') armed.fault();
      onCommit?.(result);
      if (armed?.timing === 'after-broadcast') armed.fault();
    });
  }

  bindClient(clientId: ClientId, userId: string): Promise<ClientRow> {
    return this.inner.bindClient(clientId, userId);
  }

  pull(scope: ScopeId, after: Version, limit: number, clientId?: ClientId): Promise<PullPage> {
    return this.inner.pull(scope, after, limit, clientId);
  }

  head(scope: ScopeId): Promise<Version> {
    return this.inner.head(scope);
  }

  getRecord(scope: ScopeId, collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined> {
    return this.inner.getRecord(scope, collection, id);
  }

  history(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    opts: { before?: Version; limit: number },
  ): Promise<StoredHistoryEntry[]> {
    return this.inner.history(scope, collection, id, opts);
  }

  scopeHistory(scope: ScopeId, after: Version, limit: number): Promise<HistoryPage> {
    return this.inner.scopeHistory(scope, after, limit);
  }

  liveRecords(scope: ScopeId): AsyncIterable<StoredRecord> {
    return this.inner.liveRecords(scope);
  }

  prune(policy: RetentionPolicy, now: number): Promise<PruneStats> {
    return this.inner.prune(policy, now);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Makes the server swallow the next `emit` to `room` for the sockets `skip` selects (the others
 * still get it), without disconnecting anyone. Returns how many emits were cut so far and a
 * restore function.
 */
export function dropNextBroadcast(
  server: SyncServer,
  room: string,
  skip: readonly string[],
): { dropped(): number; restore(): void } {
  const io = server.io;
  const original = io.to.bind(io);
  let dropped = 0;
  io.to = (target) => {
    if (dropped === 0 && target === room) {
      dropped++;
      return original(target).except([...skip]);
    }
    return original(target);
  };
  return {
    dropped: () => dropped,
    restore: () => {
      io.to = original;
    },
  };
}

/** Server-side socket ids of the connections a client id holds right now. */
export async function socketIdsOf(server: SyncServer, clientId: string): Promise<string[]> {
  const sockets = await server.io.fetchSockets();
  return sockets.filter((s) => s.data.clientId === clientId).map((s) => s.id);
}

/** A TCP port that was free a moment ago (listen on 0, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `everyMs` until it returns true; throws `message` at the deadline. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  message: string,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${message} (not within ${timeoutMs}ms)`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed with its seed (`SYNCLINE_SEED`). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
