import type {
  ClientId,
  CollectionName,
  HistoryEntry,
  JsonObject,
  Mid,
  RecordId,
  ScopeId,
  Version,
} from '@syncline/protocol';

/**
 * The storage contract every backend implements (memory, SQLite, PostgreSQL). The sync logic
 * (conflicts, exactly-once, retention rules) lives above it; storage only has to keep these
 * promises, which the shared conformance suite (`storage-conformance.ts`) checks.
 *
 * Atomicity: everything written through one `StorageTx` commits together or not at all.
 * Ordering: transactions touching the same scope are serialized; within a scope, versions are
 *   allocated by `nextVersion` inside the transaction and a later version never becomes visible
 *   before an earlier one, so "all records with version > N" is always a complete answer.
 * Durability: when `transaction()` resolves, the commit survives a crash of the process.
 */
export interface SyncStorage {
  /** A short name for logs and health checks: `memory`, `sqlite`, `postgres`. */
  readonly kind: string;

  /**
   * Runs `fn` in one atomic, serializable transaction and commits when it resolves. If `fn`
   * throws (or the commit fails), every write is undone — including version allocations, so
   * no gap is left — and the error is rethrown. `fn` must only await calls on `tx`.
   *
   * `onCommit`, when given, runs synchronously once the commit is durable and before the
   * `onCommit` of any transaction that committed after it, so what it publishes (live
   * broadcasts) goes out in commit order. It must not throw; a throw is swallowed because the
   * commit already stands. (Backends with several connections order same-scope commits only;
   * backends that group commits run a group's `onCommit`s in order after its one commit.)
   *
   * A backend that runs transactions concurrently may run `fn` again after the database aborted
   * it (a deadlock between nodes); everything `fn` does must go through `tx`.
   */
  transaction<T>(
    fn: (tx: StorageTx) => Promise<T>,
    onCommit?: (result: T) => void,
    opts?: TransactionOptions,
  ): Promise<T>;

  /**
   * Binds `clientId` to `userId` if it is unbound (with `lastMid` 0) and returns the stored row.
   * A row owned by another user is returned unchanged: the caller refuses the connection.
   */
  bindClient(clientId: ClientId, userId: string): Promise<ClientRow>;

  /**
   * A client's row, or undefined when the client never wrote. A read: it never creates a row, so
   * connecting or asking for a client's state does not store anything (rows are created by the
   * first push, through `StorageTx.putClient`).
   */
  getClient(clientId: ClientId): Promise<ClientRow | undefined>;

  /**
   * One consistent snapshot of a scope: up to `limit` records (tombstones included) with
   * `version > after`, ascending by version, with the scope's head and retention horizon at
   * that same instant, and `clientId`'s last applied mid in that snapshot (0 if unknown), which
   * tells the client which of its own mutations the page already reflects.
   * An unknown scope has head 0 and horizon 0.
   */
  pull(scope: ScopeId, after: Version, limit: number, clientId?: ClientId): Promise<PullPage>;

  /** The scope's head version (0 for an unknown scope). */
  head(scope: ScopeId): Promise<Version>;

  /** A record's latest state, tombstone included, or undefined. */
  getRecord(scope: ScopeId, collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined>;

  /** A record's history, newest first, versions strictly below `before` when given. */
  history(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    opts: { before?: Version; limit: number },
  ): Promise<StoredHistoryEntry[]>;

  /**
   * One consistent snapshot of a scope's history in commit order: up to `limit` entries with
   * `version > after`, ascending by version, and the scope's head at that same instant. This is
   * the source of "every committed change": the sync layer writes exactly one entry per version
   * it allocates, so an answer without holes (after + 1, after + 2, …) is complete, and a hole
   * means retention removed that entry. An unknown scope has head 0 and no entries.
   */
  scopeHistory(scope: ScopeId, after: Version, limit: number): Promise<HistoryPage>;

  /**
   * The scopes a sink (a named consumer of every committed change, such as a broker sink) has
   * not fully delivered: up to `limit` scopes whose head is above the sink's cursor for that
   * scope (0 when none was stored), ordered by scope, each with that cursor and the head. A
   * sink's position is one cursor per scope because versions are per scope: it reads each
   * scope's history after its cursor (`scopeHistory`, in version order) and stores the new
   * cursor once the change is delivered, so after a restart it resumes where delivery stopped.
   * Unknown sinks have no cursors; cursors of distinct sink names never affect each other.
   */
  sinkBacklog(sink: string, limit: number): Promise<SinkBacklogEntry[]>;

  /**
   * Registers `sink` once, atomically: the first call for a sink name (on any node sharing the
   * storage) records it and, with `from: 'now'`, sets its cursor of every existing scope to that
   * scope's head, so the sink delivers only changes committed afterwards (with `'start'` it
   * delivers the retained history too). Cursors stored before the registration stand. Resolves
   * true when this call registered the sink, false when it was registered already. Sink cursors
   * never include the empty scope name, which no scope can have: the registration is kept as
   * such a row.
   */
  registerSink(sink: string, from: 'start' | 'now'): Promise<boolean>;

  /**
   * Stores `sink`'s cursor for `scope`: every change of the scope up to `version` is delivered.
   * Durable when it resolves. It replaces the stored value, lower or higher (the sink only moves
   * it back after a restored database put the scope's head below it).
   */
  setSinkCursor(sink: string, scope: ScopeId, version: Version): Promise<void>;

  /**
   * Optional: holds a lock named `name` that at most one holder among every process sharing
   * this storage has at a time (a PostgreSQL session advisory lock on a connection of its
   * own). Resolves undefined when another holder has it. `onLost` runs once if the lock is lost
   * without `release()` (its connection died), after which the holder must stop acting as one.
   * Backends that serve a single process (memory, SQLite) leave it out: their holder always runs.
   */
  tryLock?(name: string, onLost: (err: Error) => void): Promise<StorageLock | undefined>;

  /** Every live (non-tombstone) record of a scope, in no particular order. */
  liveRecords(scope: ScopeId): AsyncIterable<StoredRecord>;

  /**
   * Applies a retention policy at server time `now`:
   * - a history entry is removed when it is older than `maxAgeMs` or not among the newest
   *   `keepVersions` entries of its record — except the entry of the record's current version,
   *   which is always kept;
   * - a tombstone whose deletion is older than `maxAgeMs` is removed with all its history, and
   *   the scope's horizon rises to that tombstone's version (pulls from below it must reset);
   * - a client row with `lastMid` 0 (the client never had a mutation applied or rejected) is
   *   removed whatever the policy: it protects no mid, so removing it cannot let a mutation apply
   *   twice. A row with `lastMid` > 0 is kept for good: the client may resend any mid up to it.
   * An unset limit removes no history or tombstone on its own. Atomic per scope; safe to run while serving.
   */
  prune(policy: RetentionPolicy, now: number): Promise<PruneStats>;

  /** Cheap liveness probe of the backend (throws when unreachable). */
  ping(): Promise<void>;

  /** Releases the backend. Pending transactions finish first. */
  close(): Promise<void>;
}

/** The answer of `StorageTx.writesAfter`. */
export interface WritesAfter {
  readonly reaches: boolean;
  readonly others: boolean;
}

export interface TransactionOptions {
  /**
   * The scopes the transaction will touch, when known up front. A backend with per-scope locks
   * takes them all at the start in one global order, so transactions over several scopes never
   * deadlock each other. Touching an unlisted scope is still allowed.
   */
  readonly scopes?: readonly ScopeId[];
}

/** Operations available inside one transaction. Reads see the transaction's own writes. */
export interface StorageTx {
  getClient(clientId: ClientId): Promise<ClientRow | undefined>;
  /** Creates or replaces the client row. */
  putClient(row: ClientRow): Promise<void>;

  getRecord(scope: ScopeId, collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined>;
  /**
   * Optional: reads these records ahead, so this transaction's `getRecord` of any of them needs
   * no trip to the database of its own; for a key with a `base`, also `writesAfter(key, base,
   * clientId)`. Only a hint (it changes no answer, also after this transaction writes the
   * record): a backend without round trips leaves it out, and callers call it only when present.
   * The write path calls it with a push's records, and the versions its mutations are based on,
   * before applying the push.
   */
  prefetchRecords?(keys: readonly PrefetchKey[], clientId?: ClientId): Promise<void>;
  /** Creates or replaces the record's latest state (keyed by scope, collection, id). */
  putRecord(record: StoredRecord): Promise<void>;

  /**
   * Allocates the scope's next version (the first is 1), creating the scope if needed. The
   * counter is part of the transaction: a rollback returns the allocated versions.
   */
  nextVersion(scope: ScopeId): Promise<Version>;

  /** Appends one history entry. (scope, collection, id, version) is unique. */
  appendHistory(entry: StoredHistoryEntry): Promise<void>;
  /** One history entry, or undefined if it never existed or was pruned. */
  getHistoryEntry(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    version: Version,
  ): Promise<StoredHistoryEntry | undefined>;
  /**
   * Who wrote the record after version `after`, without reading the entries' values (the write
   * path asks this for every stale mutation, and a record's history can be long):
   * - `reaches`: history still holds the entry written on top of `after` (the first entry with
   *   `version > after` has `prevVersion === after`); false when there is none or retention
   *   removed it;
   * - `others`: some entry with `version > after` was written by a client other than `clientId`
   *   (an entry with no client id counts as another's).
   */
  writesAfter(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    after: Version,
    clientId: ClientId,
  ): Promise<WritesAfter>;

  /**
   * Runs `fn` as a nested atomic unit: if it throws, the writes it made (versions included)
   * are undone, the error is rethrown, and the outer transaction can go on.
   */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
}

/** One scope a sink has not fully delivered (see `SyncStorage.sinkBacklog`). */
export interface SinkBacklogEntry {
  readonly scope: ScopeId;
  /** The sink's stored cursor for the scope (0 when none). */
  readonly cursor: Version;
  readonly head: Version;
}

/** A held `SyncStorage.tryLock` lock. */
export interface StorageLock {
  /** Gives the lock up (and its connection); resolves once others can take it. */
  release(): Promise<void>;
}

/** What names one record. */
export interface RecordKey {
  readonly scope: ScopeId;
  readonly collection: CollectionName;
  readonly id: RecordId;
}

/** A record to read ahead, and the version a writer based a change of it on (see `prefetchRecords`). */
export interface PrefetchKey extends RecordKey {
  readonly base?: Version;
}

/** A record's latest state. `value: null` is a tombstone. */
export interface StoredRecord {
  readonly scope: ScopeId;
  readonly collection: CollectionName;
  readonly id: RecordId;
  readonly version: Version;
  readonly value: JsonObject | null;
  readonly clientId: ClientId | null;
  readonly mid: Mid | null;
  /** Server time of the last change, ms since the epoch. */
  readonly updatedAt: number;
}

export interface StoredHistoryEntry extends HistoryEntry {
  readonly scope: ScopeId;
  readonly collection: CollectionName;
  readonly id: RecordId;
}

/** A client id, the principal it is bound to, and the last `mid` applied (or rejected) for it. */
export interface ClientRow {
  readonly clientId: ClientId;
  readonly userId: string;
  readonly lastMid: number;
}

export interface PullPage {
  readonly records: StoredRecord[];
  readonly head: Version;
  /** Highest version of a tombstone removed by retention; cursors below it must reset. */
  readonly horizon: Version;
  /** True when records with a higher version than the last returned one exist. */
  readonly hasMore: boolean;
  /** The asking client's last applied mid in the same snapshot (0 when not asked or unknown). */
  readonly clientLastMid: number;
}

export interface HistoryPage {
  readonly entries: StoredHistoryEntry[];
  readonly head: Version;
  /** True when entries with a higher version than the last returned one exist. */
  readonly hasMore: boolean;
}

export interface RetentionPolicy {
  readonly keepVersions?: number;
  readonly maxAgeMs?: number;
}

export interface PruneStats {
  readonly historyRemoved: number;
  readonly tombstonesRemoved: number;
  /** Client rows removed because they recorded no mid (see `prune`). */
  readonly clientsRemoved: number;
}
