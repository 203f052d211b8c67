/**
 * B3 (first cut): server ingest. A real `syncline-server` process on SQLite (WAL, synchronous
 * FULL) takes pushes from socket.io clients in this process; the floor is the same
 * check-and-upsert-and-history work done directly on better-sqlite3, one transaction per batch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { io as ioClient, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  asMid,
  asScopeId,
  asVersion,
  type Mutation,
  type PushResponse,
} from '@syncline/protocol';
import { spawnServer } from '../packages/server/test/helpers/server-process.js';
import { summarize, type Summary } from './stats.js';

export interface IngestResult {
  readonly name: string;
  readonly mutations: number;
  readonly perPush: number;
  readonly inFlight: number;
  readonly mutationsPerSecond: number;
  readonly ackMs: Summary;
}

const record = (i: number) => ({ title: `card ${i}`, notes: 'n'.repeat(180), status: 'todo', likes: i % 7 });

async function connect(url: string, clientId: string): Promise<Socket> {
  const socket = ioClient(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { protocolVersion: PROTOCOL_VERSION, clientId },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Pushes `total` mutations in pushes of `perPush`, keeping `inFlight` pushes outstanding. */
async function drive(
  url: string,
  name: string,
  total: number,
  perPush: number,
  inFlight: number,
): Promise<IngestResult> {
  // One socket per in-flight lane: each lane is one client pushing its outbox in order.
  const lanes = await Promise.all(
    Array.from({ length: inFlight }, (_, i) => connect(url, `bench_${name}_${i}_${Date.now()}`)),
  );
  const perLane = Math.ceil(total / perPush / inFlight);
  const latencies: number[] = [];
  const started = performance.now();
  let committed = 0;
  await Promise.all(
    lanes.map(async (socket, lane) => {
      let mid = 0;
      for (let p = 0; p < perLane; p++) {
        const mutations: Mutation[] = Array.from({ length: perPush }, (_, i) => {
          const n = (lane * perLane + p) * perPush + i;
          return {
            mid: asMid(++mid),
            scope: asScopeId(`team:${lane % 4}`),
            collection: 'cards',
            id: `c${n % 2000}`,
            op: 'put',
            base: asVersion(0),
            value: record(n),
          };
        });
        const t0 = performance.now();
        const res = (await socket.timeout(30_000).emitWithAck('push', { mutations })) as PushResponse;
        latencies.push(performance.now() - t0);
        if (!res.ok) throw new Error(`push failed: ${res.error.code} ${res.error.message}`);
        committed += res.results.length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const s of lanes) s.close();
  return {
    name,
    mutations: committed,
    perPush,
    inFlight,
    mutationsPerSecond: Math.round(committed / seconds),
    ackMs: summarize(latencies, 0.1),
  };
}

/** The floor: the same per-mutation work on raw better-sqlite3, one transaction per batch. */
function floor(dir: string, total: number, perPush: number): IngestResult {
  const db = new Database(join(dir, `floor-${perPush}.db`));
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
    for (let i = 0; i < perPush; i++) {
      const n = start + i;
      const scope = `team:${n % 4}`;
      getRecord.get(scope, 'cards', `c${n % 2000}`);
      const { head } = bump.get(scope) as { head: number };
      const value = JSON.stringify(record(n));
      upsert.run(scope, 'cards', `c${n % 2000}`, head, value);
      hist.run(scope, 'cards', `c${n % 2000}`, head, value);
    }
    client.run('floor', start + perPush);
  });
  const latencies: number[] = [];
  const started = performance.now();
  for (let start = 0; start < total; start += perPush) {
    const t0 = performance.now();
    batch.immediate(start);
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return {
    name: `floor-sqlite-${perPush}`,
    mutations: total,
    perPush,
    inFlight: 1,
    mutationsPerSecond: Math.round(total / seconds),
    ackMs: summarize(latencies, 0.1),
  };
}

export async function runIngest(quick: boolean): Promise<IngestResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-'));
  const config = join(dir, 'bench.config.mjs');
  // Bench lanes push far faster than an app's outbox; lift the per-socket event rate limit.
  writeFileSync(
    config,
    'export default { auth: "development", limits: { eventsPerSecond: 1e6, eventBurst: 1e6 } };',
  );
  const server = await spawnServer([
    '--port',
    '0',
    '--db',
    join(dir, 'server.db'),
    '--config',
    config,
    '--log-level',
    'info',
  ]);
  try {
    const total = quick ? 2_000 : 40_000;
    const results: IngestResult[] = [];
    // Interleave floor and Syncline runs so machine noise hits both alike.
    results.push(floor(dir, total, 50));
    results.push(await drive(server.url, 'syncline-50x8', total, 50, 8));
    results.push(floor(dir, total / 5, 1));
    results.push(await drive(server.url, 'syncline-1x64', total / 5, 1, 64));
    return results;
  } finally {
    server.proc.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
