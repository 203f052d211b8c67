import type pg from 'pg';

/**
 * The PostgreSQL schema of `PostgresStorage`: its migrations, the runner that applies them and
 * every SQL statement, so all SQL lives here. Tables live in their own schema (default
 * `syncline`), never in the application's `public`. Migrations are append-only: a shipped
 * migration is never edited, a change is a new one.
 *
 * Values are `text`, not `jsonb`: jsonb reorders keys and rewrites numbers, and a record must
 * round-trip byte for byte. Numbers are `bigint`, read back as JS numbers (every version, mid and
 * timestamp is below 2^53).
 */
export interface PgMigration {
  /** 1, 2, 3, …: dense, in order. */
  readonly version: number;
  /** SQL with `$schema` standing for the quoted schema name. */
  readonly sql: string;
}

/*
 * Indexes and the queries that need them are the SQLite schema's (see `MIGRATIONS` there),
 * audited for issue 15 with EXPLAIN on a populated schema: every index is used (history_scope_time
 * by retention by age, history_scope_version by scopeHistory and per-scope retention,
 * records_scope_version by pull and retention's "is current" check, records_tombstones by
 * retention of tombstones), so none was dropped.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    sql: `
      -- One row per scope: the gapless version counter and the retention horizon.
      CREATE TABLE $schema.scopes (
        scope   text PRIMARY KEY,
        head    bigint NOT NULL,
        horizon bigint NOT NULL DEFAULT 0
      );
      -- Each record's latest state; value NULL is a tombstone.
      CREATE TABLE $schema.records (
        scope      text NOT NULL,
        collection text NOT NULL,
        id         text NOT NULL,
        version    bigint NOT NULL,
        value      text,
        client_id  text,
        mid        bigint,
        updated_at bigint NOT NULL,
        PRIMARY KEY (scope, collection, id)
      );
      CREATE INDEX records_scope_version ON $schema.records (scope, version);
      CREATE INDEX records_tombstones ON $schema.records (scope, updated_at) WHERE value IS NULL;
      CREATE TABLE $schema.history (
        scope         text NOT NULL,
        collection    text NOT NULL,
        id            text NOT NULL,
        version       bigint NOT NULL,
        prev_version  bigint NOT NULL,
        op            text NOT NULL,
        value         text,
        client_id     text,
        mid           bigint,
        user_id       text,
        server_time   bigint NOT NULL,
        conflict      text,
        restored_from bigint,
        PRIMARY KEY (scope, collection, id, version)
      );
      CREATE INDEX history_scope_time ON $schema.history (scope, server_time);
      CREATE INDEX history_scope_version ON $schema.history (scope, version);
      CREATE TABLE $schema.clients (
        client_id text PRIMARY KEY,
        user_id   text NOT NULL,
        last_mid  bigint NOT NULL
      );
      -- Large cross-node broadcasts of @socket.io/postgres-adapter travel through this table.
      CREATE TABLE $schema.socket_io_attachments (
        id         bigserial UNIQUE,
        created_at timestamptz DEFAULT now(),
        payload    bytea
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- Each sink's delivered position: one cursor per scope (versions are per scope).
      CREATE TABLE $schema.sink_cursors (
        sink    text NOT NULL,
        scope   text NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (sink, scope)
      );
    `,
  },
];

/** The schema version this code writes; a database at a higher version is refused. */
export const PG_SCHEMA_VERSION: number = PG_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** A PostgreSQL identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the schema and applies the migrations it has not seen, in one transaction under an
 * advisory lock, so nodes starting together against a new database migrate it exactly once.
 * Returns the resulting schema version.
 */
export async function migratePg(
  client: pg.PoolClient | pg.Client,
  schema: string,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<number> {
  const q = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`syncline-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q}.schema_version (version int PRIMARY KEY, applied_at bigint NOT NULL)`,
    );
    const { rows } = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${q}.schema_version`,
    );
    const current = rows[0]?.v ?? 0;
    const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
    if (current > latest) {
      throw new Error(`database schema version ${current} is newer than this server supports (${latest})`);
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      await client.query(m.sql.replaceAll('$schema', q));
      await client.query(`INSERT INTO ${q}.schema_version (version, applied_at) VALUES ($1, $2)`, [
        m.version,
        Date.now(),
      ]);
    }
    await client.query('COMMIT');
    return Math.max(current, latest);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const RECORD_COLS = 'scope, collection, id, version, value, client_id, mid, updated_at';
const HISTORY_COLS = `scope, collection, id, version, prev_version, op, value, client_id, mid, user_id,
  server_time, conflict, restored_from`;
const KEY = 'scope = $1 AND collection = $2 AND id = $3';

/** Every statement, with the schema name filled in once when the storage opens. */
export function pgStatements(schema: string) {
  const s = quoteIdent(schema);
  const isCurrent = `EXISTS (SELECT 1 FROM ${s}.records r WHERE r.scope = h.scope
    AND r.collection = h.collection AND r.id = h.id AND r.version = h.version)`;
  const oldTombstone = 'scope = $1 AND value IS NULL AND updated_at < $2';
  return {
    /** Advisory lock keys are namespaced by schema, so two schemas never contend. */
    lockScope: 'SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))',
    scopeLockSpace: `syncline-scope:${schema}`,
    clientLockSpace: `syncline-client:${schema}`,
    ping: 'SELECT 1',
    getClient: `SELECT client_id, user_id, last_mid FROM ${s}.clients WHERE client_id = $1`,
    deleteEmptyClients: `DELETE FROM ${s}.clients WHERE last_mid = 0 RETURNING client_id`,
    bindClient: `INSERT INTO ${s}.clients (client_id, user_id, last_mid) VALUES ($1, $2, 0)
      ON CONFLICT (client_id) DO NOTHING`,
    getRecord: `SELECT ${RECORD_COLS} FROM ${s}.records WHERE ${KEY}`,
    // Several records by key in one statement (keys as three parallel arrays).
    getRecords: `SELECT ${RECORD_COLS} FROM ${s}.records WHERE (scope, collection, id) IN (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
    nextVersion: `INSERT INTO ${s}.scopes AS sc (scope, head, horizon) VALUES ($1, 1, 0)
      ON CONFLICT (scope) DO UPDATE SET head = sc.head + 1 RETURNING head`,
    head: `SELECT head FROM ${s}.scopes WHERE scope = $1`,
    heads: `SELECT scope, head FROM ${s}.scopes WHERE scope = ANY($1::text[])`,
    allScopes: `SELECT scope FROM ${s}.scopes`,
    sinkBacklog: `SELECT s.scope, coalesce(c.version, 0) AS cursor, s.head FROM ${s}.scopes s
      LEFT JOIN ${s}.sink_cursors c ON c.sink = $1 AND c.scope = s.scope
      WHERE s.head > coalesce(c.version, 0) ORDER BY s.scope COLLATE "C" LIMIT $2`,
    // One statement, so atomic: the registration row (scope '') and, when $2, every scope's head
    // as the cursor. A concurrent registration waits on the row's conflict, then does nothing.
    registerSink: `WITH registered AS (
        INSERT INTO ${s}.sink_cursors (sink, scope, version) VALUES ($1, '', 0)
        ON CONFLICT (sink, scope) DO NOTHING RETURNING sink
      ), seeded AS (
        INSERT INTO ${s}.sink_cursors (sink, scope, version)
        SELECT $1, sc.scope, sc.head FROM ${s}.scopes sc, registered WHERE $2::boolean
        ON CONFLICT (sink, scope) DO NOTHING
      ) SELECT count(*)::int AS registered FROM registered`,
    setSinkCursor: `INSERT INTO ${s}.sink_cursors (sink, scope, version) VALUES ($1, $2, $3)
      ON CONFLICT (sink, scope) DO UPDATE SET version = excluded.version`,
    /** Session lock of a sink (or any named singleton), namespaced by schema like the scope locks. */
    tryLock: 'SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked',
    unlock: 'SELECT pg_advisory_unlock(hashtext($1), hashtext($2))',
    lockSpace: `syncline-lock:${schema}`,
    // One statement is one snapshot, even under READ COMMITTED: head, horizon, the client's mid
    // and the page agree without a transaction. The LEFT JOIN keeps the row when the page is empty.
    pull: `WITH s AS (
        SELECT (SELECT head FROM ${s}.scopes WHERE scope = $1) AS s_head,
               (SELECT horizon FROM ${s}.scopes WHERE scope = $1) AS s_horizon,
               (SELECT last_mid FROM ${s}.clients WHERE client_id = $4) AS s_last_mid)
      SELECT s.*, r.* FROM s LEFT JOIN LATERAL (
        SELECT ${RECORD_COLS} FROM ${s}.records WHERE scope = $1 AND version > $2 ORDER BY version LIMIT $3
      ) r ON true ORDER BY r.version`,
    scopeHistory: `WITH s AS (SELECT (SELECT head FROM ${s}.scopes WHERE scope = $1) AS s_head)
      SELECT s.*, h.* FROM s LEFT JOIN LATERAL (
        SELECT ${HISTORY_COLS} FROM ${s}.history WHERE scope = $1 AND version > $2 ORDER BY version LIMIT $3
      ) h ON true ORDER BY h.version`,
    liveFirst: `SELECT ${RECORD_COLS} FROM ${s}.records WHERE scope = $1 AND value IS NOT NULL
      ORDER BY collection, id LIMIT $2`,
    liveAfter: `SELECT ${RECORD_COLS} FROM ${s}.records WHERE scope = $1 AND value IS NOT NULL
      AND (collection, id) > ($2, $3) ORDER BY collection, id LIMIT $4`,
    flush: flushStatement(s),
    historyEntry: `SELECT ${HISTORY_COLS} FROM ${s}.history WHERE ${KEY} AND version = $4`,
    writesAfter: `SELECT
      (SELECT prev_version FROM ${s}.history WHERE ${KEY} AND version > $4
       ORDER BY version LIMIT 1) AS first_prev,
      EXISTS (SELECT 1 FROM ${s}.history WHERE ${KEY} AND version > $4
       AND client_id IS DISTINCT FROM $5) AS others`,
    // writesAfter for many (record, after) pairs at once, answers in the order of the arrays.
    writesAfterMany: `SELECT
      (SELECT prev_version FROM ${s}.history h WHERE h.scope = k.scope AND h.collection = k.collection
       AND h.id = k.id AND h.version > k.after ORDER BY h.version LIMIT 1) AS first_prev,
      EXISTS (SELECT 1 FROM ${s}.history h WHERE h.scope = k.scope AND h.collection = k.collection
       AND h.id = k.id AND h.version > k.after AND h.client_id IS DISTINCT FROM $5) AS others
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS k (scope, collection, id, after, n)
      ORDER BY k.n`,
    historyBefore: `SELECT ${HISTORY_COLS} FROM ${s}.history WHERE ${KEY} AND version < $4
      ORDER BY version DESC LIMIT $5`,
    oldTombstones: `SELECT count(*)::int AS n, max(version) AS v FROM ${s}.records WHERE ${oldTombstone}`,
    deleteTombstoneHistory: `DELETE FROM ${s}.history WHERE scope = $1
      AND (collection, id) IN (SELECT collection, id FROM ${s}.records WHERE ${oldTombstone})`,
    deleteTombstones: `DELETE FROM ${s}.records WHERE ${oldTombstone}`,
    raiseHorizon: `UPDATE ${s}.scopes SET horizon = greatest(horizon, $2) WHERE scope = $1`,
    deleteOldHistory: `DELETE FROM ${s}.history h WHERE scope = $1 AND server_time < $2 AND NOT ${isCurrent}`,
    deleteExcessHistory: `DELETE FROM ${s}.history h WHERE scope = $1 AND NOT ${isCurrent}
      AND (collection, id, version) IN (
        SELECT collection, id, version FROM (
          SELECT collection, id, version,
                 row_number() OVER (PARTITION BY collection, id ORDER BY version DESC) AS rn
          FROM ${s}.history WHERE scope = $1) x
        WHERE rn > $2)`,
  };
}

export type PgStatements = ReturnType<typeof pgStatements>;

/**
 * A transaction's buffered writes in one statement (see `PgWriteBuffer`): every history row in
 * one INSERT, every record in one upsert, every client row in one upsert and the heads of the
 * scopes whose versions were counted in memory, each from parallel arrays through unnest(), so
 * one statement carries one row or a thousand. Data-modifying CTEs always run to completion,
 * whether or not the outer statement reads them. Parameters: history $1–$13, heads $14–$15,
 * records $16–$23, clients $24–$26, in the column orders of `HISTORY_COLS` and `RECORD_COLS`.
 */
function flushStatement(s: string): string {
  return `WITH h AS (
      INSERT INTO ${s}.history (${HISTORY_COLS})
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[],
        $7::text[], $8::text[], $9::bigint[], $10::text[], $11::bigint[], $12::text[], $13::bigint[])
    ), hd AS (
      INSERT INTO ${s}.scopes (scope, head) SELECT * FROM unnest($14::text[], $15::bigint[])
      ON CONFLICT (scope) DO UPDATE SET head = EXCLUDED.head
    ), c AS (
      INSERT INTO ${s}.clients (client_id, user_id, last_mid)
      SELECT * FROM unnest($24::text[], $25::text[], $26::bigint[])
      ON CONFLICT (client_id) DO UPDATE SET user_id = EXCLUDED.user_id, last_mid = EXCLUDED.last_mid
    )
    INSERT INTO ${s}.records (${RECORD_COLS})
    SELECT * FROM unnest($16::text[], $17::text[], $18::text[], $19::bigint[], $20::text[], $21::text[],
      $22::bigint[], $23::bigint[])
    ON CONFLICT (scope, collection, id) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value,
      client_id = EXCLUDED.client_id, mid = EXCLUDED.mid, updated_at = EXCLUDED.updated_at`;
}

/** PostgreSQL's type oid of `bigint`. */
const INT8_OID = 20;

/**
 * bigint (int8) columns as JS numbers; every other type parsed as pg does by default (`types`
 * is the loaded driver's `pg.types`: the driver is imported on demand).
 */
export function pgTypes(types: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (v: string) => Number(v)
        : (types.getTypeParser(oid, format ?? 'text') as (
            v: string,
          ) => unknown)) as pg.CustomTypesConfig['getTypeParser'],
  };
}
