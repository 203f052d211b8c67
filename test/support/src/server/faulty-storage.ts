import type { ClientId, CollectionName, RecordId, ScopeId, Version } from '@syncline/protocol';
import type {
  ClientRow,
  HistoryPage,
  PruneStats,
  PullPage,
  RetentionPolicy,
  SinkBacklogEntry,
  StorageTx,
  StoredHistoryEntry,
  StoredRecord,
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

  getClient(clientId: ClientId): Promise<ClientRow | undefined> {
    return this.inner.getClient(clientId);
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

  sinkBacklog(sink: string, limit: number): Promise<SinkBacklogEntry[]> {
    return this.inner.sinkBacklog(sink, limit);
  }

  registerSink(sink: string, from: 'start' | 'now'): Promise<boolean> {
    return this.inner.registerSink(sink, from);
  }

  setSinkCursor(sink: string, scope: ScopeId, version: Version): Promise<void> {
    return this.inner.setSinkCursor(sink, scope, version);
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
