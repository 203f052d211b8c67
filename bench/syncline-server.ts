/**
 * Starts the real `syncline-server` CLI for one benchmark: a temp directory, a SQLite file
 * (WAL, synchronous FULL) and a config module that lifts the per-socket event rate limit (bench
 * load pushes far faster than an app's outbox) and sets the collections' strategies.
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

export async function synclineServer(
  collections: Readonly<Record<string, { strategy: 'merge' | 'lww' | 'manual' }>> = {},
  extraArgs: readonly string[] = [],
): Promise<SynclineServer> {
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
  try {
    const server = await startSyncline(join(dir, 'server.db'), config, extraArgs);
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
