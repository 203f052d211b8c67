/**
 * Starts the real `syncline-server` CLI for one benchmark: a config module that lifts the
 * per-socket event rate limit (bench load pushes far faster than an app's outbox) and sets the
 * collections' strategies, and either a SQLite file in a temp directory (WAL, synchronous FULL)
 * or a PostgreSQL schema (optionally shared by several nodes, fanning out through PostgreSQL
 * LISTEN/NOTIFY or Redis).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSyncline } from './processes.js';

export const SQLITE_DURABILITY = 'server: SQLite WAL, synchronous=FULL (fsync per commit)';

export interface SynclineServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export type Collections = Readonly<Record<string, { strategy: 'merge' | 'lww' | 'manual' }>>;

/** PostgreSQL storage: the URL, the schema (nodes sharing it form a cluster), optional Redis fan-out. */
export interface PgStorage {
  readonly postgres: string;
  readonly schema: string;
  readonly redis?: string;
}

export async function synclineServer(collections: Collections = {}, pg?: PgStorage): Promise<SynclineServer> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-'));
  const config = join(dir, 'bench.config.mjs');
  writeFileSync(
    config,
    `export default ${JSON.stringify({
      auth: 'development',
      limits: { eventsPerSecond: 1e6, eventBurst: 1e6 },
      collections,
    })};\n`,
  );
  const storage = pg
    ? ['--postgres', pg.postgres, '--pg-schema', pg.schema, ...(pg.redis ? ['--redis', pg.redis] : [])]
    : ['--db', join(dir, 'server.db')];
  try {
    const server = await startSyncline([...storage, '--config', config]);
    return {
      ...server,
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
