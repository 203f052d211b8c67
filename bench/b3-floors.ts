/**
 * B3's floors: the same per-mutation work as the server's write path (check the record, bump
 * the scope counter, upsert the record, append history, update the client's last mid) done
 * directly on the database, one transaction per batch, no network.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadPg } from './peers/untyped.js';
import { dropSchema, uniqueSchema } from './postgres.js';
import { summarize, type Summary } from './stats.js';

export interface FloorResult {
  readonly mutationsPerSecond: number;
  readonly txnMs: Summary;
}

export const ingestRecord = (i: number) => ({
  title: `card ${i}`,
  notes: 'n'.repeat(180),
  status: 'todo',
  likes: i % 7,
});

export function sqliteFloor(dir: string, total: number, perTxn: number): FloorResult {
  const db = new Database(join(dir, `floor-${perTxn}-${Date.now()}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE scopes (scope TEXT PRIMARY KEY, head INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE records (scope TEXT, collection TEXT, id TEXT, version INTEGER, value TEXT, PRIMARY KEY (scope, collection, id)) WITHOUT ROWID;
    CREATE TABLE history (scope TEXT, collection TEXT, id TEXT, version INTEGER, value TEXT, PRIMARY KEY (scope, collection, id, version)) WITHOUT ROWID;
    CREATE TABLE clients (client_id TEXT PRIMARY KEY, last_mid INTEGER NOT NULL) WITHOUT ROWID;`);
  const getRecord = db.prepare('SELECT version FROM records WHERE scope = ? AND collection = ? AND id = ?');
  const bump = db.prepare(
    'INSERT INTO scopes VALUES (?, 1) ON CONFLICT (scope) DO UPDATE SET head = head + 1 RETURNING head',
  );
  const upsert = db.prepare('INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?)');
  const hist = db.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?)');
  const client = db.prepare('INSERT OR REPLACE INTO clients VALUES (?, ?)');
  const batch = db.transaction((start: number) => {
    for (let i = 0; i < perTxn; i++) {
      const n = start + i;
      const scope = `team:${n % 4}`;
      getRecord.get(scope, 'cards', `c${n % 2000}`);
      const { head } = bump.get(scope) as { head: number };
      const value = JSON.stringify(ingestRecord(n));
      upsert.run(scope, 'cards', `c${n % 2000}`, head, value);
      hist.run(scope, 'cards', `c${n % 2000}`, head, value);
    }
    client.run('floor', start + perTxn);
  });
  const latencies: number[] = [];
  const started = performance.now();
  for (let start = 0; start < total; start += perTxn) {
    const t0 = performance.now();
    batch.immediate(start);
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return { mutationsPerSecond: Math.round(total / seconds), txnMs: summarize(latencies, 0.1) };
}

/**
 * The PostgreSQL floor: one transaction per batch, the scope counter bumped once per batch and
 * the records and history written with one multi-row `INSERT … ON CONFLICT` each.
 */
export async function pgFloor(url: string, total: number, perTxn: number): Promise<FloorResult> {
  const { Client } = loadPg();
  const pg = new Client({ connectionString: url });
  await pg.connect();
  const schema = uniqueSchema(url, 'bench_floor');
  try {
    await pg.query(`CREATE SCHEMA ${schema};
      CREATE TABLE ${schema}.scopes (scope text PRIMARY KEY, head bigint NOT NULL);
      CREATE TABLE ${schema}.records (scope text, collection text, id text, version bigint, value jsonb, PRIMARY KEY (scope, collection, id));
      CREATE TABLE ${schema}.history (scope text, collection text, id text, version bigint, value jsonb, PRIMARY KEY (scope, collection, id, version));
      CREATE TABLE ${schema}.clients (client_id text PRIMARY KEY, last_mid bigint NOT NULL);`);
    const latencies: number[] = [];
    const started = performance.now();
    for (let start = 0; start < total; start += perTxn) {
      const t0 = performance.now();
      const scope = `team:${(start / perTxn) % 4}`;
      await pg.query('BEGIN');
      const ids = Array.from({ length: perTxn }, (_, i) => `c${(start + i) % 2000}`);
      await pg.query(
        `SELECT version FROM ${schema}.records WHERE scope = $1 AND collection = 'cards' AND id = ANY($2)`,
        [scope, ids],
      );
      const { rows } = await pg.query(
        `INSERT INTO ${schema}.scopes VALUES ($1, $2) ON CONFLICT (scope) DO UPDATE SET head = scopes.head + $2 RETURNING head`,
        [scope, perTxn],
      );
      const head = Number(rows[0]!['head']) - perTxn;
      // Distinct ids per batch (perTxn ≤ 2000), so one multi-row upsert is valid.
      const values = ids
        .map((_, i) => `($1, 'cards', $${2 + 3 * i}, $${3 + 3 * i}, $${4 + 3 * i})`)
        .join(', ');
      const params = [
        scope,
        ...ids.flatMap((id, i) => [id, head + i + 1, JSON.stringify(ingestRecord(start + i))]),
      ];
      await pg.query(
        `INSERT INTO ${schema}.records VALUES ${values} ON CONFLICT (scope, collection, id) DO UPDATE SET version = excluded.version, value = excluded.value`,
        params,
      );
      await pg.query(`INSERT INTO ${schema}.history VALUES ${values}`, params);
      await pg.query(
        `INSERT INTO ${schema}.clients VALUES ('floor', $1) ON CONFLICT (client_id) DO UPDATE SET last_mid = excluded.last_mid`,
        [start + perTxn],
      );
      await pg.query('COMMIT');
      latencies.push(performance.now() - t0);
    }
    const seconds = (performance.now() - started) / 1000;
    return { mutationsPerSecond: Math.round(total / seconds), txnMs: summarize(latencies, 0.1) };
  } finally {
    await pg.end();
    await dropSchema(url, schema);
  }
}
