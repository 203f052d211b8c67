import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, mulberry32, spawnServer, type ServerProcess } from '@syncline/test-support';
import { dropSchema, testSchema } from '@syncline/test-support/databases';
import { replicasEqualServer, storageChecks } from './checks.js';
import { result, type RunContext, type RunResult, type Scenario } from './scenario.js';
import { postgresDb, sqliteDb, type ServerDb } from './server-db.js';
import { Workload } from './workload.js';

/** How long a (re)started server may take to be ready: minutes on a loaded 2-core machine. */
export const READY_MS = 90_000;

/** SIGKILLs a process (if it runs) and waits for its exit. */
export async function kill(node: ServerProcess): Promise<void> {
  if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill('SIGKILL');
  await node.exited;
}

/**
 * One `syncline-server` process, SIGKILLed again and again (every 0.3–1.5 s, restarted after up
 * to 0.4 s on the same port) while three devices write. SQLite file or PostgreSQL schema.
 */
async function killLoop(storage: 'sqlite' | 'postgres', seed: number, ctx: RunContext): Promise<RunResult> {
  const rnd = mulberry32(seed ^ 0x5eed);
  const port = await freePort();
  let args: string[];
  let db: ServerDb;
  if (storage === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-chaos-'));
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'sync.db');
    args = ['--db', file];
    db = lazySqlite(file);
  } else {
    const schema = testSchema('chaos');
    const pgUrl = ctx.pgUrl!;
    ctx.defer(() => dropSchema(pgUrl, schema));
    args = ['--postgres', pgUrl, '--pg-schema', schema, '--pg-pool-size', '4'];
    db = postgresDb(pgUrl, schema);
  }
  ctx.defer(() => db.close());
  const start = () =>
    spawnServer(['--port', String(port), ...args, '--log-level', 'info'], {}, { readyTimeoutMs: READY_MS });
  let node = await start();
  ctx.defer(() => kill(node));

  const work = new Workload({ seed, urls: [node.url], devices: 3, opsPerDevice: 20, thinkMs: 60 });
  ctx.defer(() => work.close());
  await work.start();

  const planned = 2 + Math.floor(rnd() * 3);
  let kills = 0;
  let broken = false;
  const killer = (async () => {
    while (kills < planned) {
      await new Promise((r) => setTimeout(r, 300 + rnd() * 1200));
      await kill(node);
      kills++;
      await new Promise((r) => setTimeout(r, rnd() * 400));
      node = await start();
    }
  })().catch((err: unknown) => {
    broken = true;
    throw err;
  });
  // The devices write until the last restart, so writes meet every kill.
  await work.write(() => kills < planned && !broken);
  await killer;

  const replicas = await replicasEqualServer(work.devices, work.expected.scopes, 90_000);
  const checks = [...(await storageChecks(db, work.expected)), replicas];
  return result(checks, `${storage}: ${kills} SIGKILLs under 3 devices, ${work.writes} writes`);
}

/** A read-only SQLite handle opened on first query (the server creates the file). */
function lazySqlite(file: string): ServerDb {
  let db: ServerDb | undefined;
  return {
    kind: 'sqlite',
    table: (t) => t,
    query: <R>(sql: string) => (db ??= sqliteDb(file)).query<R>(sql),
    close: async () => db?.close(),
  };
}

export const sqliteKill: Scenario = {
  name: 'sqlite-kill-loop',
  description: 'server SIGKILLed every 0.3–1.5 s on SQLite while three devices write',
  needs: [],
  quickRuns: 2,
  longWeight: 3,
  timeoutMs: 120_000,
  run: (seed, ctx) => killLoop('sqlite', seed, ctx),
};

export const postgresKill: Scenario = {
  name: 'postgres-kill-loop',
  description: 'server SIGKILLed every 0.3–1.5 s on PostgreSQL while three devices write',
  needs: ['postgres'],
  quickRuns: 1,
  longWeight: 3,
  timeoutMs: 120_000,
  run: (seed, ctx) => killLoop('postgres', seed, ctx),
};
