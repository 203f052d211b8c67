// A consumer's server, through the published `@syncline/server` entry point only: serves the
// built app (./dist) and Syncline on one port, SQLite only (no pg, no redis installed).
//   node out/server.js <sqlite file>   → prints `consumer-server {"url": …}` once listening
import { createReadStream, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import {
  createSyncServer,
  MISSING_DEPENDENCY,
  MissingDependencyError,
  PostgresStorage,
  SqliteStorage,
  type SyncServer,
} from '@syncline/server';

const dbPath = process.argv[2] ?? 'consumer.db';
const staticDir = join(process.cwd(), 'dist');
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const httpServer = createServer((req, res) => {
  if (sync.handleHttp(req, res)) return;
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const file = join(staticDir, normalize(path === '/' ? '/index.html' : path));
  if (!file.startsWith(staticDir) || !existsSync(file)) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
const sync: SyncServer = createSyncServer({
  storage: new SqliteStorage({ path: dbPath }),
  auth: 'development',
  httpServer,
});
const stop = () => {
  void sync.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
const { url } = await sync.listen(0, '127.0.0.1');

// Without `pg` installed, PostgreSQL storage fails with an error naming what to install.
const missing = await PostgresStorage.open({ connectionString: 'postgres://127.0.0.1:1/none' }).then(
  () => undefined,
  (err: unknown) => err,
);
if (!(missing instanceof MissingDependencyError) || missing.code !== MISSING_DEPENDENCY) {
  throw new Error(`expected ${MISSING_DEPENDENCY}, got ${String(missing)}`);
}

process.stdout.write(`consumer-server ${JSON.stringify({ url, missingDependency: missing.install })}\n`);
