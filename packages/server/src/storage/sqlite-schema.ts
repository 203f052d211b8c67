import type Database from 'better-sqlite3';
import type { ClientDbRow, HistoryRow, RecordRow } from './rows.js';

/**
 * The SQLite schema of `SqliteStorage`: the migrations that create it, the runner that applies
 * them, and the statements and row mappings that read and write it, so all SQL lives here.
 * Migrations are append-only: a shipped migration is never edited, a change is a new one.
 */
export interface Migration {
  /** 1, 2, 3, …: dense, in order. */
  readonly version: number;
  readonly sql: string;
}

/*
 * Which query needs which index (audited for issue 15 with EXPLAIN QUERY PLAN; every index is
 * used, so none was dropped — an unused one would cost every insert for nothing):
 * - records primary key: getRecord, putRecord, liveRecords (scope prefix, in (collection, id)
 *   order: the scope hash's full walk), retention's "is current" check;
 * - records_scope_version: pull (and so the scope hash's incremental reads);
 * - records_tombstones: retention of old tombstones;
 * - history primary key: record history, getHistoryEntry, writesAfter, retention per record,
 *   and one entry per (record, version);
 * - history_scope_time: retention by age; history_scope_version: scopeHistory (change feed).
 * - clients primary key: every client read and write (the rare retention of clients scans).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      -- One row per scope: the gapless version counter and the retention horizon (the highest
      -- version of a tombstone removed by retention).
      CREATE TABLE scopes (
        scope   TEXT PRIMARY KEY,
        head    INTEGER NOT NULL,
        horizon INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;

      -- Each record's latest state. value is JSON text; NULL is a tombstone.
      CREATE TABLE records (
        scope      TEXT NOT NULL,
        collection TEXT NOT NULL,
        id         TEXT NOT NULL,
        version    INTEGER NOT NULL,
        value      TEXT,
        client_id  TEXT,
        mid        INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (scope, collection, id)
      ) WITHOUT ROWID;
      -- Pull reads a scope in version order.
      CREATE INDEX records_scope_version ON records (scope, version);
      -- Prune looks for old tombstones only; live records are the bulk and stay out of it.
      CREATE INDEX records_tombstones ON records (scope, updated_at) WHERE value IS NULL;

      CREATE TABLE history (
        scope         TEXT NOT NULL,
        collection    TEXT NOT NULL,
        id            TEXT NOT NULL,
        version       INTEGER NOT NULL,
        prev_version  INTEGER NOT NULL,
        op            TEXT NOT NULL,
        value         TEXT,
        client_id     TEXT,
        mid           INTEGER,
        user_id       TEXT,
        server_time   INTEGER NOT NULL,
        conflict      TEXT,
        restored_from INTEGER,
        PRIMARY KEY (scope, collection, id, version)
      ) WITHOUT ROWID;
      -- Prune by age scans a scope's old entries without reading the whole history.
      CREATE INDEX history_scope_time ON history (scope, server_time);

      CREATE TABLE clients (
        client_id TEXT PRIMARY KEY,
        user_id   TEXT NOT NULL,
        last_mid  INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    sql: `
      -- The change feed reads a scope's history in version order.
      CREATE INDEX history_scope_version ON history (scope, version);
    `,
  },
  {
    version: 3,
    sql: `
      -- Each sink's delivered position: one cursor per scope (versions are per scope).
      CREATE TABLE sink_cursors (
        sink    TEXT NOT NULL,
        scope   TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (sink, scope)
      ) WITHOUT ROWID;
    `,
  },
];

/** The schema version this code writes; a database at a higher version is refused. */
export const SCHEMA_VERSION: number = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Applies the migrations the database has not seen yet, all in one transaction, and returns the
 * resulting schema version. `BEGIN IMMEDIATE` takes the write lock before reading the current
 * version, so two processes opening the same new file cannot both run a migration.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    const row = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_version').get();
    const current = row?.v ?? 0;
    const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
    if (current > latest) {
      throw new Error(`database schema version ${current} is newer than this server supports (${latest})`);
    }
    const record = db.prepare<[number, number]>(
      'INSERT INTO schema_version (version, applied_at) VALUES (?, ?)',
    );
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      record.run(m.version, Date.now());
    }
    db.exec('COMMIT');
    return Math.max(current, latest);
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

type Key = { scope: string; collection: string; id: string };
/** A record row's values in `RECORD_COLS` order. */
type RecordParams = [string, string, string, number, string | null, string | null, number | null, number];
/** A history row's values in `HISTORY_COLS` order. */
type HistoryParams = [
  ...[string, string, string, number, number, string, string | null, string | null, number | null],
  ...[string | null, number, string | null, number | null],
];

const RECORD_COLS = 'scope, collection, id, version, value, client_id, mid, updated_at';
const HISTORY_COLS = `scope, collection, id, version, prev_version, op, value, client_id, mid, user_id,
  server_time, conflict, restored_from`;
const KEY = 'scope = @scope AND collection = @collection AND id = @id';
/** The history entry of a record's current version, which retention always keeps. */
const IS_CURRENT = `EXISTS (SELECT 1 FROM records r WHERE r.scope = history.scope
  AND r.collection = history.collection AND r.id = history.id AND r.version = history.version)`;
const OLD_TOMBSTONE = 'scope = @scope AND value IS NULL AND updated_at < @cutoff';

/** The part of a better-sqlite3 statement used here, under a name declaration files can refer to. */
export interface Stmt<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/** Prepares every statement once, when the storage opens. */
export function prepareStatements(db: Database.Database) {
  const prep = <P extends unknown[] = [], R = unknown>(sql: string): Stmt<P, R> => db.prepare<P, R>(sql);
  return {
    ping: prep<[], { one: number }>('SELECT 1 AS one'),
    getClient: prep<[string], ClientDbRow>('SELECT * FROM clients WHERE client_id = ?'),
    deleteEmptyClients: prep<[]>('DELETE FROM clients WHERE last_mid = 0'),
    putClient: prep<[string, string, number]>('INSERT OR REPLACE INTO clients VALUES (?, ?, ?)'),
    bindClient: prep<[string, string]>(
      'INSERT INTO clients VALUES (?, ?, 0) ON CONFLICT (client_id) DO NOTHING',
    ),
    getRecord: prep<[string, string, string], RecordRow>(
      `SELECT ${RECORD_COLS} FROM records WHERE scope = ? AND collection = ? AND id = ?`,
    ),
    // Positional parameters in column order: the write path binds them without building an object.
    putRecord: prep<RecordParams>(
      `INSERT OR REPLACE INTO records (${RECORD_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    nextVersion: prep<[string], { head: number }>(
      `INSERT INTO scopes (scope, head, horizon) VALUES (?, 1, 0)
       ON CONFLICT (scope) DO UPDATE SET head = head + 1 RETURNING head`,
    ),
    // The head after the versions a transaction counted in memory (see `ScopeHeads`).
    setHead: prep<[number, string]>('UPDATE scopes SET head = ? WHERE scope = ?'),
    scope: prep<[string], { head: number; horizon: number }>(
      'SELECT head, horizon FROM scopes WHERE scope = ?',
    ),
    allScopes: prep<[], { scope: string }>('SELECT scope FROM scopes'),
    sinkBacklog: prep<[string, number], { scope: string; cursor: number; head: number }>(
      `SELECT s.scope, coalesce(c.version, 0) AS cursor, s.head FROM scopes s
       LEFT JOIN sink_cursors c ON c.sink = ? AND c.scope = s.scope
       WHERE s.head > coalesce(c.version, 0) ORDER BY s.scope LIMIT ?`,
    ),
    // The registration row of a sink (scope ''; see `SyncStorage.registerSink`).
    registerSink: prep<[string]>(
      "INSERT OR IGNORE INTO sink_cursors (sink, scope, version) VALUES (?, '', 0)",
    ),
    seedSinkCursors: prep<[string]>(
      'INSERT OR IGNORE INTO sink_cursors (sink, scope, version) SELECT ?, scope, head FROM scopes',
    ),
    setSinkCursor: prep<[string, string, number]>(
      'INSERT OR REPLACE INTO sink_cursors (sink, scope, version) VALUES (?, ?, ?)',
    ),
    pull: prep<[string, number, number], RecordRow>(
      `SELECT ${RECORD_COLS} FROM records WHERE scope = ? AND version > ? ORDER BY version LIMIT ?`,
    ),
    liveFirst: prep<[string, number], RecordRow>(
      `SELECT ${RECORD_COLS} FROM records WHERE scope = ? AND value IS NOT NULL
       ORDER BY collection, id LIMIT ?`,
    ),
    liveAfter: prep<[string, string, string, number], RecordRow>(
      `SELECT ${RECORD_COLS} FROM records WHERE scope = ? AND value IS NOT NULL AND (collection, id) > (?, ?)
       ORDER BY collection, id LIMIT ?`,
    ),
    appendHistory: prep<HistoryParams>(
      `INSERT INTO history (${HISTORY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    scopeHistory: prep<[string, number, number], HistoryRow>(
      `SELECT ${HISTORY_COLS} FROM history WHERE scope = ? AND version > ? ORDER BY version LIMIT ?`,
    ),
    historyEntry: prep<[Key & { version: number }], HistoryRow>(
      `SELECT ${HISTORY_COLS} FROM history WHERE ${KEY} AND version = @version`,
    ),
    // Two index range reads on the primary key; no value is read or parsed.
    writesAfter: prep<
      [Key & { after: number; client: string }],
      { first_prev: number | null; others: number }
    >(
      `SELECT
         (SELECT prev_version FROM history WHERE ${KEY} AND version > @after
          ORDER BY version LIMIT 1) AS first_prev,
         EXISTS (SELECT 1 FROM history WHERE ${KEY} AND version > @after
          AND client_id IS NOT @client) AS others`,
    ),
    historyBefore: prep<[Key & { before: number; limit: number }], HistoryRow>(
      `SELECT ${HISTORY_COLS} FROM history WHERE ${KEY} AND version < @before
       ORDER BY version DESC LIMIT @limit`,
    ),
    oldTombstones: prep<[{ scope: string; cutoff: number }], { n: number; v: number | null }>(
      `SELECT count(*) AS n, max(version) AS v FROM records WHERE ${OLD_TOMBSTONE}`,
    ),
    deleteTombstoneHistory: prep<[{ scope: string; cutoff: number }]>(
      `DELETE FROM history WHERE scope = @scope
       AND (collection, id) IN (SELECT collection, id FROM records WHERE ${OLD_TOMBSTONE})`,
    ),
    deleteTombstones: prep<[{ scope: string; cutoff: number }]>(`DELETE FROM records WHERE ${OLD_TOMBSTONE}`),
    raiseHorizon: prep<[{ scope: string; horizon: number }]>(
      'UPDATE scopes SET horizon = max(horizon, @horizon) WHERE scope = @scope',
    ),
    deleteOldHistory: prep<[{ scope: string; cutoff: number }]>(
      `DELETE FROM history WHERE scope = @scope AND server_time < @cutoff AND NOT ${IS_CURRENT}`,
    ),
    deleteExcessHistory: prep<[{ scope: string; keep: number }]>(
      `DELETE FROM history WHERE scope = @scope AND NOT ${IS_CURRENT} AND (collection, id, version) IN (
         SELECT collection, id, version FROM (
           SELECT collection, id, version,
                  row_number() OVER (PARTITION BY collection, id ORDER BY version DESC) AS rn
           FROM history WHERE scope = @scope)
         WHERE rn > @keep)`,
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
