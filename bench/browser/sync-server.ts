/**
 * The real `syncline-server` CLI in its own process, on a SQLite file (WAL, synchronous FULL),
 * for the browser benchmarks: development auth, the page host's origin allowed (pages and server
 * are on different ports), and the per-socket event rate limit lifted (a benchmark writes faster
 * than a person). Stopped by its process id.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '@syncline/test-support';
import { withTimeout } from './deadline.js';

export interface BenchSyncServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the server for pages served from `pageOrigin`. `prepare(dbFile)` runs before the
 * process starts (seeding); the temporary directory goes away on `stop()`.
 */
export async function startSyncServer(
  pageOrigin: string,
  prepare?: (dbFile: string) => Promise<void>,
): Promise<BenchSyncServer> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-browser-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const db = join(dir, 'server.db');
    if (prepare !== undefined) await prepare(db);
    const config = join(dir, 'bench.config.mjs');
    const options = {
      auth: 'development',
      cors: { origins: [pageOrigin] },
      limits: { eventsPerSecond: 1e6, eventBurst: 1e6 },
    };
    writeFileSync(config, `export default ${JSON.stringify(options)};\n`);
    // `ready` is logged at info; nothing per push or per connection is at that level.
    const server = await spawnServer(['--port', '0', '--db', db, '--config', config, '--log-level', 'info']);
    const pid = server.proc.pid;
    if (pid === undefined) throw new Error('syncline-server has no pid');
    return {
      url: server.url,
      pid,
      stop: async () => {
        try {
          if (server.proc.exitCode === null && server.proc.signalCode === null) {
            process.kill(pid, 'SIGTERM');
            await withTimeout(server.exited, 5_000, 'syncline-server to exit').catch(() => {
              process.kill(pid, 'SIGKILL');
              return server.exited;
            });
          }
        } finally {
          remove();
        }
      },
    };
  } catch (error) {
    remove();
    throw error;
  }
}
