import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * Read access to a server's storage (SQLite file or PostgreSQL schema), so the checks read
 * history and records themselves instead of trusting the server's answers. Both storages have
 * the same tables (`scopes`, `records`, `history`); `table()` qualifies a name.
 */
export interface ServerDb {
  readonly kind: 'sqlite' | 'postgres';
  table(name: 'scopes' | 'records' | 'history'): string;
  query<R>(sql: string): Promise<R[]>;
  close(): Promise<void>;
}

/** A SQLite database file, opened read-only (WAL: readable while the server writes). */
export function sqliteDb(file: string): ServerDb {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  return {
    kind: 'sqlite',
    table: (name) => name,
    query: <R>(sql: string) => Promise.resolve(db.prepare(sql).all() as R[]),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

/** A schema on PostgreSQL; one connection, opened on first use. */
export function postgresDb(url: string, schema: string): ServerDb {
  let client: pg.Client | undefined;
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  return {
    kind: 'postgres',
    table: (name) => `${quoted}.${name}`,
    async query<R>(sql: string): Promise<R[]> {
      if (client === undefined) {
        client = new pg.Client({ connectionString: url });
        client.on('error', () => undefined);
        await client.connect();
      }
      return (await client.query(sql)).rows as R[];
    },
    async close() {
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
