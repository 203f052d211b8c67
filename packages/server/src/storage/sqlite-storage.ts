import Database from 'better-sqlite3';
import { asVersion } from '@syncline/protocol';
import type { ClientId, CollectionName, RecordId, ScopeId, Version } from '@syncline/protocol';
import { toClient, toHistory, toRecord } from './rows.js';
import { migrate, prepareStatements } from './sqlite-schema.js';
import { pagedRows, pruneScopes } from './sql-backend-shared.js';
import type { Statements } from './sqlite-schema.js';
import { SqliteConnection } from './sqlite-connection.js';
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

/**
 * `SyncStorage` on one SQLite file through better-sqlite3, in WAL mode. Every operation runs on
 * one connection, in the order and with the group commit of `SqliteConnection`.
 */
export class SqliteStorage implements SyncStorage {
  readonly kind = 'sqlite';
  private readonly st: Statements;
  private readonly conn: SqliteConnection;

  constructor(opts: SqliteStorageOptions) {
    const db = new Database(opts.path, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('foreign_keys = OFF');
      migrate(db);
      this.st = prepareStatements(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.conn = new SqliteConnection(db, this.st);
  }

  static async open(opts: SqliteStorageOptions): Promise<SqliteStorage> {
    return new SqliteStorage(opts);
  }

  /** See `SqliteConnection.transaction` (group commit). */
  transaction<T>(fn: (tx: StorageTx) => Promise<T>, onCommit?: (result: T) => void): Promise<T> {
    return this.conn.transaction(fn, onCommit);
  }

  bindClient(clientId: ClientId, userId: string): Promise<ClientRow> {
    return this.conn.exclusive(() =>
      this.conn.atomically(() => {
        this.st.bindClient.run(clientId, userId);
        const row = this.st.getClient.get(clientId);
        if (!row) throw new Error(`client ${clientId} vanished while binding`);
        return toClient(row);
      }),
    );
  }

  getClient(clientId: ClientId): Promise<ClientRow | undefined> {
    return this.conn.read(() => {
      const row = this.st.getClient.get(clientId);
      return row && toClient(row);
    });
  }

  pull(scope: ScopeId, after: Version, limit: number, clientId?: ClientId): Promise<PullPage> {
    // A read transaction pins one WAL snapshot, so head, horizon and page agree even if another
    // process writes the file between the statements.
    return this.conn.read(() =>
      this.conn.atomically(() => {
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
    return this.conn.read(() => asVersion(this.st.scope.get(scope)?.head ?? 0));
  }

  getRecord(scope: ScopeId, collection: CollectionName, id: RecordId): Promise<StoredRecord | undefined> {
    return this.conn.read(() => {
      const row = this.st.getRecord.get(scope, collection, id);
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
    return this.conn.read(() =>
      this.st.historyBefore.all({ scope, collection, id, before, limit: opts.limit }).map(toHistory),
    );
  }

  scopeHistory(scope: ScopeId, after: Version, limit: number): Promise<HistoryPage> {
    // One read transaction: the head and the entries come from the same WAL snapshot.
    return this.conn.read(() =>
      this.conn.atomically(() => {
        const rows = this.st.scopeHistory.all(scope, after, limit + 1);
        return {
          entries: rows.slice(0, limit).map(toHistory),
          head: asVersion(this.st.scope.get(scope)?.head ?? 0),
          hasMore: rows.length > limit,
        };
      }, 'DEFERRED'),
    );
  }

  sinkBacklog(sink: string, limit: number): Promise<SinkBacklogEntry[]> {
    return this.conn.read(() =>
      this.st.sinkBacklog.all(sink, limit).map((r) => ({
        scope: r.scope as ScopeId,
        cursor: asVersion(r.cursor),
        head: asVersion(r.head),
      })),
    );
  }

  registerSink(sink: string, from: 'start' | 'now'): Promise<boolean> {
    return this.conn.exclusive(() =>
      this.conn.atomically(() => {
        if (this.st.registerSink.run(sink).changes === 0) return false;
        if (from === 'now') this.st.seedSinkCursors.run(sink);
        return true;
      }),
    );
  }

  setSinkCursor(sink: string, scope: ScopeId, version: Version): Promise<void> {
    return this.conn.exclusive(() => {
      this.st.setSinkCursor.run(sink, scope, version);
    });
  }

  /** Pages through the scope by (collection, id); the connection is free between pages. */
  async *liveRecords(scope: ScopeId): AsyncIterable<StoredRecord> {
    const rows = pagedRows(LIVE_PAGE, (last) =>
      this.conn.read(() =>
        last
          ? this.st.liveAfter.all(scope, last.collection, last.id, LIVE_PAGE)
          : this.st.liveFirst.all(scope, LIVE_PAGE),
      ),
    );
    for await (const row of rows) yield toRecord(row);
  }

  prune(policy: RetentionPolicy, now: number): Promise<PruneStats> {
    return pruneScopes(
      policy,
      now,
      () => this.conn.read(() => this.st.allScopes.all().map((r) => r.scope)),
      (scope, { cutoff, keep }) =>
        this.conn.exclusive(() =>
          this.conn.atomically(() => {
            let historyRemoved = 0;
            let tombstonesRemoved = 0;
            if (cutoff !== undefined) {
              const old = this.st.oldTombstones.get({ scope, cutoff });
              if (old && old.n > 0 && old.v !== null) {
                historyRemoved += this.st.deleteTombstoneHistory.run({ scope, cutoff }).changes;
                tombstonesRemoved += this.st.deleteTombstones.run({ scope, cutoff }).changes;
                this.st.raiseHorizon.run({ scope, horizon: old.v });
              }
              historyRemoved += this.st.deleteOldHistory.run({ scope, cutoff }).changes;
            }
            if (keep !== undefined)
              historyRemoved += this.st.deleteExcessHistory.run({ scope, keep }).changes;
            return { historyRemoved, tombstonesRemoved };
          }),
        ),
      () => this.conn.exclusive(() => this.conn.atomically(() => this.st.deleteEmptyClients.run().changes)),
    );
  }

  ping(): Promise<void> {
    return this.conn.read(() => {
      this.st.ping.get();
    });
  }

  close(): Promise<void> {
    return this.conn.close();
  }
}
