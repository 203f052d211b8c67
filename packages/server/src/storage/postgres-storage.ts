import type pg from 'pg';
import { asVersion } from '@syncline/protocol';
import type { ClientId, CollectionName, RecordId, ScopeId, Version } from '@syncline/protocol';
import { importOptional } from '../ops/optional-dependency.js';
import { migratePg, pgStatements, pgTypes, type PgStatements } from './postgres-schema.js';
import { PgPool } from './postgres-pool.js';
import { pagedRows, pruneScopes } from './sql-backend-shared.js';
import { toClient, toHistory, toRecord } from './rows.js';
import type { ClientDbRow, HistoryRow, RecordRow } from './rows.js';
import type {
  ClientRow,
  HistoryPage,
  PruneStats,
  PullPage,
  RetentionPolicy,
  SinkBacklogEntry,
  StorageLock,
  StorageTx,
  StoredHistoryEntry,
  TransactionOptions,
  StoredRecord,
  SyncStorage,
} from './storage.js';

export interface PostgresStorageOptions {
  /** `postgres://user@host:port/database`. */
  readonly connectionString: string;
  /** Connections in the pool (default 10). Transactions beyond it wait for a free connection. */
  readonly poolSize?: number;
  /** The schema holding Syncline's tables (default `syncline`), created if missing. */
  readonly schema?: string;
  /**
   * Errors of idle or in-use connections that no call is waiting for (the database restarted, a
   * network cut). They never crash the process; the next call on a fresh connection tells.
   */
  readonly onError?: (err: Error) => void;
  /** How long a call waits to get a connection before failing (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** `application_name` of the connections, as `pg_stat_activity` shows it (default `syncline`). */
  readonly applicationName?: string;
  /**
   * Whether a transaction writes statements ahead of their answers (default true): a push then
   * costs two round trips. False sends one statement at a time, for a proxy in between that
   * does not take pipelined statements.
   */
  readonly pipeline?: boolean;
}

const LIVE_PAGE = 1000;
/** How often a held lock's connection is checked with a query, to catch a silently dead one. */
const LOCK_PING_MS = 5000;

type PullRow = RecordRow & { s_head: number | null; s_horizon: number | null; s_last_mid: number | null };
type HistoryPageRow = HistoryRow & { s_head: number | null };

/**
 * `SyncStorage` on PostgreSQL, shared by any number of server nodes.
 *
 * Transactions run concurrently on a pool (READ COMMITTED). Each takes an advisory lock per
 * scope before its first read of that scope and per client before reading the client's row (see
 * `PgTx`), so same-scope transactions are serialized across every node: versions are gapless and
 * commit in allocation order, and exactly-once per (client id, mid) holds even when one batch is
 * pushed to two nodes at once. Transactions touching several scopes in different orders can
 * deadlock; PostgreSQL aborts one and it is run again (so `fn` may run more than once — it must
 * only act through `tx`). `onCommit` runs in version order for transactions sharing a scope;
 * transactions of unrelated scopes run, and publish, side by side. Reads are single statements:
 * each is one snapshot, so pull's page, head, horizon and mid always agree.
 * Durability is PostgreSQL's commit (with its default `synchronous_commit = on`).
 */
export class PostgresStorage implements SyncStorage {
  readonly kind = 'postgres';
  readonly #sql: PgStatements;
  readonly #pool: PgPool;

  private constructor(pool: pg.Pool, schema: string, onError: (err: Error) => void) {
    this.#sql = pgStatements(schema);
    this.#pool = new PgPool(pool, this.#sql, onError);
  }

  /**
   * Connects, creates the schema and applies pending migrations. Needs the `pg` package (an
   * optional peer dependency): without it, rejects with a `MissingDependencyError`
   * (`missing_dependency`) that names the `npm install` line.
   */
  static async open(opts: PostgresStorageOptions): Promise<PostgresStorage> {
    const schema = opts.schema ?? 'syncline';
    const onError = opts.onError ?? (() => undefined);
    const { default: driver } = await importOptional('PostgresStorage', 'pg', ['pg'], () => import('pg'));
    const pool = new driver.Pool({
      connectionString: opts.connectionString,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      // A half-open connection (a network cut without a reset) is noticed in seconds, not hours.
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      // A node frozen mid-transaction (stopped, swapping) must not hold its scope locks, and so
      // every other node's writes to those scopes, for ever: PostgreSQL ends such a session.
      idle_in_transaction_session_timeout: 30_000,
      types: pgTypes(driver.types),
      // A transaction writes its statements ahead of their answers (see `PgPipe`).
      pipeline: opts.pipeline ?? true,
      application_name: opts.applicationName ?? 'syncline',
    });
    // An idle connection that dies (database restart) emits here; unhandled, it would kill the process.
    pool.on('error', onError);
    const storage = new PostgresStorage(pool, schema, onError);
    try {
      const client = await storage.#pool.connect();
      try {
        await migratePg(client, schema);
        client.release();
      } catch (err) {
        client.release(err as Error);
        throw err;
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return storage;
  }

  transaction<T>(
    fn: (tx: StorageTx) => Promise<T>,
    onCommit?: (result: T) => void,
    opts: TransactionOptions = {},
  ): Promise<T> {
    return this.#pool.transaction(fn, onCommit, opts);
  }

  #read<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    return this.#pool.read<R>(text, values);
  }

  async bindClient(clientId: ClientId, userId: string): Promise<ClientRow> {
    await this.#read(this.#sql.bindClient, [clientId, userId]);
    const [row] = await this.#read<ClientDbRow>(this.#sql.getClient, [clientId]);
    if (!row) throw new Error(`client ${clientId} vanished while binding`);
    return toClient(row);
  }

  async getClient(clientId: ClientId): Promise<ClientRow | undefined> {
    const [row] = await this.#read<ClientDbRow>(this.#sql.getClient, [clientId]);
    return row && toClient(row);
  }

  async pull(scope: ScopeId, after: Version, limit: number, clientId?: ClientId): Promise<PullPage> {
    const rows = await this.#read<PullRow>(this.#sql.pull, [scope, after, limit + 1, clientId ?? null]);
    const first = rows[0];
    const records = rows.filter((r) => r.version !== null);
    return {
      records: records.slice(0, limit).map(toRecord),
      head: asVersion(first?.s_head ?? 0),
      horizon: asVersion(first?.s_horizon ?? 0),
      hasMore: records.length > limit,
      clientLastMid: clientId === undefined ? 0 : (first?.s_last_mid ?? 0),
    };
  }

  async head(scope: ScopeId): Promise<Version> {
    const [row] = await this.#read<{ head: number }>(this.#sql.head, [scope]);
    return asVersion(row?.head ?? 0);
  }

  async getRecord(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
  ): Promise<StoredRecord | undefined> {
    const [row] = await this.#read<RecordRow>(this.#sql.getRecord, [scope, collection, id]);
    return row && toRecord(row);
  }

  async history(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    opts: { before?: Version; limit: number },
  ): Promise<StoredHistoryEntry[]> {
    const before = opts.before ?? Number.MAX_SAFE_INTEGER;
    const rows = await this.#read<HistoryRow>(this.#sql.historyBefore, [
      scope,
      collection,
      id,
      before,
      opts.limit,
    ]);
    return rows.map(toHistory);
  }

  async scopeHistory(scope: ScopeId, after: Version, limit: number): Promise<HistoryPage> {
    const rows = await this.#read<HistoryPageRow>(this.#sql.scopeHistory, [scope, after, limit + 1]);
    const entries = rows.filter((r) => r.version !== null);
    return {
      entries: entries.slice(0, limit).map(toHistory),
      head: asVersion(rows[0]?.s_head ?? 0),
      hasMore: entries.length > limit,
    };
  }

  async sinkBacklog(sink: string, limit: number): Promise<SinkBacklogEntry[]> {
    const rows = await this.#read<{ scope: string; cursor: number; head: number }>(this.#sql.sinkBacklog, [
      sink,
      limit,
    ]);
    return rows.map((r) => ({
      scope: r.scope as ScopeId,
      cursor: asVersion(r.cursor),
      head: asVersion(r.head),
    }));
  }

  async registerSink(sink: string, from: 'start' | 'now'): Promise<boolean> {
    const [row] = await this.#read<{ registered: number }>(this.#sql.registerSink, [sink, from === 'now']);
    return row?.registered === 1;
  }

  async setSinkCursor(sink: string, scope: ScopeId, version: Version): Promise<void> {
    await this.#read(this.#sql.setSinkCursor, [sink, scope, version]);
  }

  /**
   * A session advisory lock on a connection taken from the pool and held until `release()`:
   * when this process dies or its connection drops, PostgreSQL ends the session and the lock
   * goes with it, so another node's `tryLock` gets it. The connection is pinged every few
   * seconds so a silently dead one is noticed (`onLost`) rather than held for ever.
   */
  async tryLock(name: string, onLost: (err: Error) => void): Promise<StorageLock | undefined> {
    const client = await this.#pool.connect();
    let done = false;
    const timer: { ping?: ReturnType<typeof setInterval> } = {};
    const drop = (err: Error) => {
      if (done) return;
      done = true;
      clearInterval(timer.ping);
      this.#pool.release(client, err);
      onLost(err);
    };
    try {
      const { rows } = await client.query<{ locked: boolean }>(this.#sql.tryLock, [
        this.#sql.lockSpace,
        name,
      ]);
      if (!rows[0]?.locked) {
        done = true;
        this.#pool.release(client);
        return undefined;
      }
    } catch (err) {
      done = true;
      this.#pool.release(client, err);
      throw err;
    }
    client.on('error', drop);
    client.on('end', () => drop(new Error('lock connection ended')));
    timer.ping = setInterval(() => {
      client
        .query('SELECT 1')
        .catch((err: unknown) => drop(err instanceof Error ? err : new Error(String(err))));
    }, LOCK_PING_MS);
    timer.ping.unref();
    return {
      release: async () => {
        if (done) return;
        done = true;
        clearInterval(timer.ping);
        // Destroyed, not pooled: ending the session is what frees the lock, whatever state it is in.
        this.#pool.release(client, new Error('lock released'));
        await Promise.resolve();
      },
    };
  }

  /** Pages through the scope by (collection, id), one statement per page. */
  async *liveRecords(scope: ScopeId): AsyncIterable<StoredRecord> {
    const rows = pagedRows(LIVE_PAGE, (last) =>
      last
        ? this.#read<RecordRow>(this.#sql.liveAfter, [scope, last.collection, last.id, LIVE_PAGE])
        : this.#read<RecordRow>(this.#sql.liveFirst, [scope, LIVE_PAGE]),
    );
    for await (const row of rows) yield toRecord(row);
  }

  prune(policy: RetentionPolicy, now: number): Promise<PruneStats> {
    return pruneScopes(
      policy,
      now,
      async () => (await this.#read<{ scope: string }>(this.#sql.allScopes, [])).map((r) => r.scope),
      // Under the scope lock: writers of other scopes are never held up.
      (scope, { cutoff, keep }) =>
        this.#pool.track(
          this.#pool.withScopeLock(scope, async (client) => {
            let historyRemoved = 0;
            let tombstonesRemoved = 0;
            const run = async (text: string, values: unknown[]) =>
              (await client.query(text, values)).rowCount ?? 0;
            if (cutoff !== undefined) {
              const { rows } = await client.query<{ n: number; v: number | null }>(this.#sql.oldTombstones, [
                scope,
                cutoff,
              ]);
              const old = rows[0];
              if (old && old.n > 0 && old.v !== null) {
                historyRemoved += await run(this.#sql.deleteTombstoneHistory, [scope, cutoff]);
                tombstonesRemoved += await run(this.#sql.deleteTombstones, [scope, cutoff]);
                await client.query(this.#sql.raiseHorizon, [scope, old.v]);
              }
              historyRemoved += await run(this.#sql.deleteOldHistory, [scope, cutoff]);
            }
            if (keep !== undefined) historyRemoved += await run(this.#sql.deleteExcessHistory, [scope, keep]);
            return { historyRemoved, tombstonesRemoved };
          }),
        ),
      // One statement; a push that re-creates such a row meanwhile upserts it (putClient).
      async () => (await this.#read(this.#sql.deleteEmptyClients, [])).length,
    );
  }

  async ping(): Promise<void> {
    await this.#read(this.#sql.ping, []);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
