/**
 * The durable floor's server storage: the work Syncline's server does per mutation (read the
 * record's version, bump the scope counter, upsert the record, append history, update the
 * client's last mid) on a SQLite file in WAL mode with `synchronous=FULL`, one transaction per
 * push, through better-sqlite3. No validation, no conflict check, no auth: storage cost only.
 * The tables are B3's floor's, plus the (scope, version) index a pull reads by.
 */
import Database from 'better-sqlite3';

/** One mutation as a durable-floor client pushes it (`mid` from the client's memory). */
export interface FloorMutation {
  readonly mid: number;
  readonly id: string;
  readonly value: unknown;
}

/** One committed change as the server forwards it, or serves it from `page`. */
export interface FloorChange {
  readonly version: number;
  readonly id: string;
  readonly value: unknown;
}

const SCOPE = 'bench';
const COLLECTION = 'cards';

export interface DurableFloorStore {
  /** Commits `mutations` in one durable transaction; resolves with the changes in version order. */
  commit(clientId: string | null, mutations: readonly FloorMutation[]): FloorChange[];
  /** Up to `limit` changes after version `after`, in version order (a pull page). */
  page(after: number, limit: number): FloorChange[];
  close(): void;
}

export function openDurableFloorStore(path: string): DurableFloorStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS scopes (scope TEXT PRIMARY KEY, head INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS records (scope TEXT, collection TEXT, id TEXT, version INTEGER, value TEXT,
      client_id TEXT, mid INTEGER, PRIMARY KEY (scope, collection, id)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS records_scope_version ON records (scope, version);
    CREATE TABLE IF NOT EXISTS history (scope TEXT, collection TEXT, id TEXT, version INTEGER,
      prev_version INTEGER, value TEXT, client_id TEXT, mid INTEGER,
      PRIMARY KEY (scope, collection, id, version)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, last_mid INTEGER NOT NULL) WITHOUT ROWID;`);
  const getRecord = db.prepare<[string, string, string], { version: number }>(
    'SELECT version FROM records WHERE scope = ? AND collection = ? AND id = ?',
  );
  const bump = db.prepare<[string], { head: number }>(
    'INSERT INTO scopes VALUES (?, 1) ON CONFLICT (scope) DO UPDATE SET head = head + 1 RETURNING head',
  );
  const upsert = db.prepare('INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?)');
  const hist = db.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const client = db.prepare('INSERT OR REPLACE INTO clients VALUES (?, ?)');
  const pull = db.prepare<[string, number, number], { version: number; id: string; value: string }>(
    'SELECT version, id, value FROM records WHERE scope = ? AND version > ? ORDER BY version LIMIT ?',
  );
  const commit = db.transaction((clientId: string | null, mutations: readonly FloorMutation[]) => {
    const out: FloorChange[] = [];
    for (const m of mutations) {
      const prev = getRecord.get(SCOPE, COLLECTION, m.id)?.version ?? 0;
      const version = bump.get(SCOPE)!.head;
      const value = JSON.stringify(m.value);
      upsert.run(SCOPE, COLLECTION, m.id, version, value, clientId, m.mid);
      hist.run(SCOPE, COLLECTION, m.id, version, prev, value, clientId, m.mid);
      out.push({ version, id: m.id, value: m.value });
    }
    const last = mutations[mutations.length - 1];
    if (clientId !== null && last !== undefined) client.run(clientId, last.mid);
    return out;
  });
  return {
    // IMMEDIATE takes the write lock up front, as Syncline's SQLite storage does.
    commit: (clientId, mutations) => commit.immediate(clientId, mutations),
    page: (after, limit) =>
      pull
        .all(SCOPE, after, limit)
        .map((r) => ({ version: r.version, id: r.id, value: JSON.parse(r.value) as unknown })),
    close: () => db.close(),
  };
}
