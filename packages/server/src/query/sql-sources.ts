import Database from 'better-sqlite3';
import type { AppObject } from '@syncline/protocol';
import type { QuerySource, SourceQuery, SourceRow } from './query-sources.js';

/** A read-only SQL query as an external source of read-through queries. */
export interface SqlSourceOptions {
  /**
   * One `SELECT` (a view, a join…) returning the rows of a query, one row per result, every
   * column a field of its value. SQLite binds `@scope`, `@collection` and `@limit`; PostgreSQL
   * binds `$1` (scope), `$2` (collection), `$3` (limit), as many as the text uses. The server
   * then applies the query's `where`, order and cursor to the rows, so the SQL may return more
   * (narrowing by scope keeps it cheap).
   */
  readonly sql: string;
  /** The column that holds each row's id (default `id`); it stays in the value too. */
  readonly idColumn?: string;
  /** Collections this source answers for; every collection when omitted. */
  readonly collections?: readonly string[];
  /** How long to wait for it (default 2000 ms); PostgreSQL also cancels the statement then. */
  readonly timeoutMs?: number;
}

/** A SQL source that owns a connection: close it after the server. */
export interface ClosableQuerySource extends QuerySource {
  close(): void;
}

/**
 * A source reading a SQLite file through its own read-only connection (opened at the first
 * query; the file must exist). The statement must be a read (`SELECT`, `WITH … SELECT`).
 * better-sqlite3 is synchronous: a slow statement holds the event loop and its timeout cannot
 * interrupt it, so point it at views that answer fast (indexed by scope).
 */
export function sqliteQuerySource(path: string, opts: SqlSourceOptions): ClosableQuerySource {
  let db: Database.Database | undefined;
  let stmt: Database.Statement | undefined;
  const open = (): Database.Statement => {
    if (stmt) return stmt;
    db = new Database(path, { readonly: true, fileMustExist: true });
    const prepared = db.prepare(opts.sql);
    if (!prepared.reader) throw new Error('the SQL of a query source must be a SELECT');
    return (stmt = prepared);
  };
  return {
    ...common(opts),
    query: (q) => {
      const rows = open().all({ scope: q.scope, collection: q.collection, limit: q.limit }) as object[];
      return rows.map((r) => toRow(r, opts.idColumn));
    },
    close: () => {
      db?.close();
      db = undefined;
      stmt = undefined;
    },
  };
}

/**
 * The part of a `pg` `Pool` the PostgreSQL source uses. Written out here, so that an app's
 * type check does not need the optional `pg` package's types; a `pg.Pool` fits it.
 */
export interface SourcePool {
  connect(): Promise<SourcePoolClient>;
}

/** The part of a `pg` `PoolClient` the PostgreSQL source uses. */
export interface SourcePoolClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  release(err?: Error): void;
}

/**
 * A source reading PostgreSQL through the app's pool (the app ends it). Each query runs in a
 * `READ ONLY` transaction with `statement_timeout` set to the source's timeout, so the database
 * refuses writes and stops a slow statement by itself.
 */
export function postgresQuerySource(pool: SourcePool, opts: SqlSourceOptions): QuerySource {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const used = Math.max(0, ...[...opts.sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  const params = (q: SourceQuery) => [q.scope, q.collection, q.limit].slice(0, Math.min(used, 3));
  return {
    ...common(opts),
    query: async (q) => {
      const client = await pool.connect();
      let failed: unknown;
      try {
        await client.query('BEGIN READ ONLY');
        await client.query(`SET LOCAL statement_timeout = ${Math.ceil(timeoutMs)}`);
        const res = await client.query(opts.sql, params(q));
        await client.query('COMMIT');
        return res.rows.map((r) => toRow(r as object, opts.idColumn));
      } catch (err) {
        failed = err;
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release(failed instanceof Error ? failed : undefined);
      }
    },
  };
}

function common(opts: SqlSourceOptions): Omit<QuerySource, 'query'> {
  return {
    ...(opts.collections !== undefined ? { collections: opts.collections } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  };
}

function toRow(row: object, idColumn = 'id'): SourceRow {
  const value = { ...row } as AppObject;
  const id = Object.hasOwn(value, idColumn) ? value[idColumn] : undefined;
  if (typeof id !== 'string' && typeof id !== 'number') {
    throw new Error(`a row has no "${idColumn}" column to use as its id`);
  }
  return { id: String(id), value };
}
