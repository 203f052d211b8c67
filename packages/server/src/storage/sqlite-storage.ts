import Database from 'better-sqlite3';
import { asVersion } from '@syncline/protocol';
import type { ClientId, CollectionName, RecordId, ScopeId, Version } from '@syncline/protocol';
import { toClient, toHistory, toRecord } from './rows.js';
import { migrate, prepareStatements } from './sqlite-schema.js';
import { pagedRows, retentionBounds } from './sql-backend-shared.js';
import type { Statements } from './sqlite-schema.js';
import type {
  ClientRow,
  HistoryPage,
  PruneStats,
  PullPage,
  RetentionPolicy,
  StorageTx,
  StoredHistoryEntry,
  StoredRecord,
  SyncStorage,
  WritesAfter,
} from './storage.js';

export interface SqliteStorageOptions {
  /** A database file (created if missing), or `:memory:` for a private in-memory database. */
  readonly path: string;
  /**
   * `FULL` (default) syncs the WAL on every commit, so a commit also survives power loss;
   * `NORMAL` survives a crash of the process but may lose the last commits on power loss.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

const LIVE_PAGE = 1000;
const BUSY_TIMEOUT_MS = 5000;
/** Transactions per group commit: bounds how long the last of a group waits for the first. */
const MAX_GROUP = 128;

/** The next event-loop turn; captured at load, so tests faking timers cannot stall commits. */
const nextTurn: (fn: () => void) => void = globalThis.setImmediate.bind(globalThis);

/** A queued `transaction()` call. */
interface Job {
  readonly fn: (tx: StorageTx) => Promise<unknown>;
  readonly onCommit: ((result: unknown) => void) | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * One open transaction. It refuses use once its transaction has ended, so a leaked handle cannot
 * write into a later caller's transaction.
 */
class SqliteTx implements StorageTx {
  private open = true;
  private savepoints = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
  ) {}

  end(): void {
    this.open = false;
  }

  private check(): Statements {
    if (!this.open) throw new Error('storage transaction already ended');
    return this.st;
  }

  async getClient(clientId: ClientId): Promise<ClientRow | undefined> {
    const row = this.check().getClient.get(clientId);
    return row && toClient(row);
  }

  async putClient(row: ClientRow): Promise<void> {
    this.check().putClient.run(row.clientId, row.userId, row.lastMid);
  }

  async getRecord(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
  ): Promise<StoredRecord | undefined> {
    const row = this.check().getRecord.get({ scope, collection, id });
    return row && toRecord(row);
  }

  async putRecord(r: StoredRecord): Promise<void> {
    this.check().putRecord.run({
      ...r,
      value: r.value === null ? null : JSON.stringify(r.value),
      client_id: r.clientId,
      updated_at: r.updatedAt,
    });
  }

  async nextVersion(scope: ScopeId): Promise<Version> {
    const row = this.check().nextVersion.get(scope);
    if (!row) throw new Error(`no version allocated for scope ${scope}`);
    return asVersion(row.head);
  }

  async appendHistory(e: StoredHistoryEntry): Promise<void> {
    this.check().appendHistory.run({
      ...e,
      prev_version: e.prevVersion,
      value: e.value === null ? null : JSON.stringify(e.value),
      client_id: e.clientId,
      user_id: e.userId,
      server_time: e.serverTime,
      conflict: e.conflict === null ? null : JSON.stringify(e.conflict),
      restored_from: e.restoredFrom,
    });
  }

  async getHistoryEntry(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    version: Version,
  ): Promise<StoredHistoryEntry | undefined> {
    const row = this.check().historyEntry.get({ scope, collection, id, version });
    return row && toHistory(row);
  }

  async writesAfter(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    after: Version,
    clientId: ClientId,
  ): Promise<WritesAfter> {
    const row = this.check().writesAfter.get({ scope, collection, id, after, client: clientId });
    return { reaches: row?.first_prev === after, others: row?.others === 1 };
  }

  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    this.check();
    // Names are never reused within a transaction, so an inner savepoint cannot shadow an outer one.
    const name = `sp_${++this.savepoints}`;
    this.db.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      this.db.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      // Some errors (e.g. SQLITE_FULL) roll the whole transaction back; then the outer commit fails.
      if (this.db.inTransaction) this.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw err;
    }
  }
}

/**
 * `SyncStorage` on one SQLite file through better-sqlite3, in WAL mode.
 *
 * better-sqlite3 is synchronous and a connection has one transaction at a time, while
 * `transaction(fn)` awaits `fn` between statements. So every operation runs through one FIFO
 * queue on the connection: a transaction holds it from `BEGIN IMMEDIATE` to `COMMIT`, and reads
 * wait for it, so no read ever sees another caller's uncommitted writes. A read on an idle
 * connection runs at once, without a trip through the queue.
 */
function runOnCommit<T>(onCommit: ((result: T) => void) | undefined, result: T): void {
  try {
    onCommit?.(result);
  } catch {
    // The commit stands; the contract says onCommit must not throw.
  }
}

export class SqliteStorage implements SyncStorage {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly st: Statements;
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Transactions waiting for the next group (see `transaction`). */
  private readonly pending: Job[] = [];
  private closing: Promise<void> | undefined;

  constructor(opts: SqliteStorageOptions) {
    this.db = new Database(opts.path, { timeout: BUSY_TIMEOUT_MS });
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.pragma('foreign_keys = OFF');
      migrate(this.db);
      this.st = prepareStatements(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  static async open(opts: SqliteStorageOptions): Promise<SqliteStorage> {
    return new SqliteStorage(opts);
  }

  /** Runs `fn` alone on the connection, after everything queued before it. */
  private exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.closing) return Promise.reject(new Error('SqliteStorage is closed'));
    return this.enqueue(fn);
  }

  /** `exclusive` without the closed check: for work accepted before `close()` (groups, close). */
  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    this.queued++;
    const result = this.queue.then(fn).finally(() => this.queued--);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** A read: immediate when nothing is queued (then no transaction can be open), else queued. */
  private read<T>(fn: () => T): Promise<T> {
    if (this.closing || this.queued > 0) return this.exclusive(fn);
    // The executor runs synchronously, and a throw in it becomes a rejection.
    return new Promise<T>((resolve) => resolve(fn()));
  }

  /**
   * Runs a synchronous unit in its own transaction. IMMEDIATE takes the file's write lock up
   * front, so a writer never fails upgrading a read lock; DEFERRED is a read snapshot.
   */
  private atomically<T>(fn: () => T, mode: 'IMMEDIATE' | 'DEFERRED' = 'IMMEDIATE'): T {
    this.db.exec(`BEGIN ${mode}`);
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /**
   * Group commit: transactions that queue up while one runs are run together, each in its own
   * savepoint of one SQLite transaction, and committed with one COMMIT — one WAL sync for the
   * group instead of one per transaction. A transaction that throws is rolled back to its
   * savepoint alone; none resolves before the group's COMMIT, and onCommit runs for each in
   * order after it. The first of a group never waits for company: grouping only batches what is
   * queued anyway, so it costs no latency.
   */
  transaction<T>(fn: (tx: StorageTx) => Promise<T>, onCommit?: (result: T) => void): Promise<T> {
    if (this.closing) return Promise.reject(new Error('SqliteStorage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        fn: fn,
        onCommit: onCommit as ((result: unknown) => void) | undefined,
        resolve: resolve as (result: unknown) => void,
        reject,
      });
      // One runner per group: it takes whatever is pending when its turn on the connection comes.
      // It starts on the next loop turn, after this turn's socket reads queued their pushes too:
      // started at once, a group would only ever hold the push whose read scheduled it.
      if (this.pending.length === 1) nextTurn(() => void this.enqueue(() => this.runGroup()));
    });
  }

  private async runGroup(): Promise<void> {
    const group = this.pending.splice(0, MAX_GROUP);
    // What is left over was queued without a runner of its own (see `transaction`).
    if (this.pending.length > 0) void this.enqueue(() => this.runGroup());
    if (group.length === 0) return;
    const done: { job: Job; result: unknown }[] = [];
    const fail = (err: unknown) => {
      for (const { job } of done) job.reject(err);
      done.length = 0;
    };
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      for (const job of group) job.reject(err);
      return;
    }
    for (const [i, job] of group.entries()) {
      if (!this.db.inTransaction) {
        // An error that SQLite answers by rolling back everything (e.g. SQLITE_FULL) took the
        // group's earlier work with it.
        job.reject(new Error('group transaction was rolled back by an earlier error'));
        continue;
      }
      const name = `grp_${i}`;
      const tx = new SqliteTx(this.db, this.st);
      this.db.exec(`SAVEPOINT ${name}`);
      try {
        const result = await job.fn(tx);
        tx.end();
        this.db.exec(`RELEASE ${name}`);
        done.push({ job, result });
      } catch (err) {
        tx.end();
        if (this.db.inTransaction) this.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        else fail(err);
        job.reject(err);
      }
    }
    try {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      fail(err);
    }
    for (const { job, result } of done) {
      runOnCommit(job.onCommit, result);
      job.resolve(result);
    }
  }

  bindClient(clientId: ClientId, userId: string): Promise<ClientRow> {
    return this.exclusive(() =>
      this.atomically(() => {
        this.st.bindClient.run(clientId, userId);
        const row = this.st.getClient.get(clientId);
        if (!row) throw new Error(`client ${clientId} vanished while binding`);
        return toClient(row);
      }),
    );
  }

  pull(scope: ScopeId, after: Version, limit: number, clientId?: ClientId): Promise<PullPage> {
    // A read transaction pins one WAL snapshot, so head, horizon and page agree even if another
    // process writes the file between the statements.
    return this.read(() =>
      this.atomically(() => {
        const s = this.st.scope.get(scope);
        const rows = this.st.pull.all(scope, after, limit + 1);
        return {
          records: rows.slice(0, limit).map(toRecord),
          head: asVersion(s?.head ?? 0),
          horizon: asVersion(s?.horizon ?? 0),
          hasMore: rows.length > limit,
          clientLastMid: clientId === undefined ? 0 : (this.st.getClient.get(clientId)?.last_mid ?? 0),
        };
      }, 'DEFERRED'),
    );
  }

  head(scope: ScopeId): Promise<Version> {
    return this.read(() => asVersion(this.st.scope.get(scope)?.head ?? 0));
  }

  getRecord(scope: ScopeId, collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined> {
    return this.read(() => {
      const row = this.st.getRecord.get({ scope, collection, id });
      return row && toRecord(row);
    });
  }

  history(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    opts: { before?: Version; limit: number },
  ): Promise<StoredHistoryEntry[]> {
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    return this.read(() =>
      this.st.historyBefore.all({ scope, collection, id, before, limit: opts.limit }).map(toHistory),
    );
  }

  scopeHistory(scope: ScopeId, after: Version, limit: number): Promise<HistoryPage> {
    // One read transaction: the head and the entries come from the same WAL snapshot.
    return this.read(() =>
      this.atomically(() => {
        const rows = this.st.scopeHistory.all(scope, after, limit + 1);
        return {
          entries: rows.slice(0, limit).map(toHistory),
          head: asVersion(this.st.scope.get(scope)?.head ?? 0),
          hasMore: rows.length > limit,
        };
      }, 'DEFERRED'),
    );
  }

  /** Pages through the scope by (collection, id); the connection is free between pages. */
  async *liveRecords(scope: ScopeId): AsyncIterable<StoredRecord> {
    const rows = pagedRows(LIVE_PAGE, (last) =>
      this.read(() =>
        last
          ? this.st.liveAfter.all(scope, last.collection, last.id, LIVE_PAGE)
          : this.st.liveFirst.all(scope, LIVE_PAGE),
      ),
    );
    for await (const row of rows) yield toRecord(row);
  }

  async prune(policy: RetentionPolicy, now: number): Promise<PruneStats> {
    let historyRemoved = 0;
    let tombstonesRemoved = 0;
    const bounds = retentionBounds(policy, now);
    if (!bounds) return { historyRemoved, tombstonesRemoved };
    const { cutoff, keep } = bounds;
    const scopes = await this.read(() => this.st.allScopes.all().map((r) => r.scope));
    // One transaction per scope: atomic per scope, and other work interleaves between scopes.
    for (const scope of scopes) {
      await this.exclusive(() =>
        this.atomically(() => {
          if (cutoff !== undefined) {
            const old = this.st.oldTombstones.get({ scope, cutoff });
            if (old && old.n > 0 && old.v !== null) {
              historyRemoved += this.st.deleteTombstoneHistory.run({ scope, cutoff }).changes;
              tombstonesRemoved += this.st.deleteTombstones.run({ scope, cutoff }).changes;
              this.st.raiseHorizon.run({ scope, horizon: old.v });
            }
            historyRemoved += this.st.deleteOldHistory.run({ scope, cutoff }).changes;
          }
          if (keep !== undefined) historyRemoved += this.st.deleteExcessHistory.run({ scope, keep }).changes;
        }),
      );
    }
    return { historyRemoved, tombstonesRemoved };
  }

  ping(): Promise<void> {
    return this.read(() => {
      this.st.ping.get();
    });
  }

  close(): Promise<void> {
    // Later calls are refused at once; what was called before runs first: a group runner
    // scheduled for the next turn is queued before this close (both go through `nextTurn`).
    this.closing ??= new Promise<void>((resolve) => nextTurn(resolve)).then(() =>
      this.enqueue(() => {
        this.db.close();
      }),
    );
    return this.closing;
  }
}
