// The demo's server: one node:http server that serves the built app (apps/demo/dist) and carries
// Syncline's Socket.IO endpoint and HTTP routes, so the page and the sync server share an origin
// (no CORS).
//
//   node --conditions=syncline-source --import tsx apps/demo/server.ts [--port 8787] [--db ./syncline.db | --postgres URL]
//
// `--dev` serves the sources through Vite's dev middleware instead (hot reload), on the same port.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  assertDevAuthAddress,
  createJsonLogger,
  createSyncServer,
  SqliteStorage,
  type CollectionsConfig,
  type Logger,
  MissingDependencyError,
  SynclineConfigError,
  type SyncServer,
  type SyncStorage,
} from '@syncline/server';
import {
  loadConfig,
  openBackend,
  parseCliArgs,
  type Backend,
  type CliOptions,
  type ServerConfigFile,
} from '@syncline/server/cli';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const DEFAULT_STATIC_DIR = join(HERE, 'dist');

/**
 * Cards use the `manual` strategy so that every concurrent edit lands in the device's conflict
 * inbox, where a person sees base, mine and theirs (`merge`, the default, would resolve it
 * silently). Likes are `inc` mutations, which always merge: two offline likes give +2.
 */
export const DEMO_COLLECTIONS: CollectionsConfig = {
  cards: {
    strategy: 'manual',
    validate: (card) => {
      const title = card['title'];
      if (typeof title !== 'string' || title.trim() === '') return 'a card needs a title';
      if (title.length > 200) return 'a title has at most 200 characters';
      return undefined;
    },
  },
};

export interface DemoServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** SQLite file, when no `backend` is given. */
  readonly dbPath: string;
  /**
   * Storage and cross-node fan-out opened by the caller (`openBackend` from the CLI flags, e.g.
   * `--postgres`); the demo server closes it on close. Default: a SQLite file at `dbPath`.
   */
  readonly backend?: Backend;
  /** The built app (default apps/demo/dist). Ignored with `dev`. */
  readonly staticDir?: string;
  /** Serve the sources through Vite's dev middleware (hot reload) instead of built files. */
  readonly dev?: boolean;
  readonly logger?: Logger;
  /** Server options from a config module; the demo's collections are the defaults. */
  readonly config?: ServerConfigFile;
  /** INSECURE: development auth on a non-loopback `host` (`--insecure-dev-auth`). */
  readonly allowInsecureDevAuth?: boolean;
}

export interface DemoServer {
  readonly url: string;
  readonly port: number;
  readonly sync: SyncServer;
  readonly storage: SyncStorage;
  close(): Promise<void>;
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export async function startDemoServer(opts: DemoServerOptions): Promise<DemoServer> {
  const host = opts.host ?? '127.0.0.1';
  const auth = opts.config?.auth ?? 'development';
  // Before anything opens: development auth only on loopback, unless explicitly allowed.
  assertDevAuthAddress({ auth, allowInsecureDevAuth: opts.allowInsecureDevAuth }, host);
  const staticDir = resolve(opts.staticDir ?? DEFAULT_STATIC_DIR);
  let devMiddleware: Middleware | undefined;
  let closeDev: (() => Promise<void>) | undefined;

  // Created first: Socket.IO takes its own path and hands every other request to this handler.
  const httpServer = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error('request failed', { err, url: req.url });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      else res.destroy();
    });
  });

  const logger = opts.logger ?? createJsonLogger();
  const backend: Backend = opts.backend ?? sqliteBackend(opts.dbPath);
  const { storage, cluster } = backend;
  const config = opts.config ?? {};
  const sync = createSyncServer({
    ...config,
    auth,
    allowInsecureDevAuth: opts.allowInsecureDevAuth === true,
    collections: { ...DEMO_COLLECTIONS, ...config.collections },
    storage,
    logger,
    httpServer,
    ...(cluster ? { cluster } : {}),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Syncline's own routes first: /healthz, /readyz, /metrics, the change feed.
    if (sync.handleHttp(req, res)) return;
    if (devMiddleware) {
      // A worker installed by a built demo on this origin would keep serving that build: retire it.
      if (req.url === '/sw.js') {
        res
          .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
          .end(RETIRE_WORKER);
        return;
      }
      devMiddleware(req, res, () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
      return;
    }
    await serveStatic(staticDir, path, req, res);
  }

  if (opts.dev === true) {
    const vite = await import('vite');
    const devServer = await vite.createServer({
      configFile: join(HERE, 'vite.config.ts'),
      server: { middlewareMode: true, hmr: { server: httpServer } },
      appType: 'spa',
    });
    devMiddleware = devServer.middlewares;
    closeDev = () => devServer.close();
  } else {
    const index = await stat(join(staticDir, 'index.html')).catch(() => null);
    if (!index?.isFile()) {
      await sync.close();
      await backend.close();
      throw new Error(`no built demo in ${staticDir}: run \`pnpm --filter @syncline/demo build\` first`);
    }
  }

  try {
    await new Promise<void>((done, fail) => {
      httpServer.once('error', fail);
      httpServer.listen(opts.port, host, () => {
        httpServer.off('error', fail);
        done();
      });
    });
  } catch (err) {
    await closeDev?.();
    await sync.close();
    await backend.close();
    throw err;
  }
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    sync,
    storage,
    close: () =>
      (closing ??= (async () => {
        await closeDev?.();
        httpServer.closeIdleConnections();
        await sync.close();
        httpServer.closeAllConnections();
        await backend.close();
      })()),
  };
}

function sqliteBackend(path: string): Backend {
  const storage = new SqliteStorage({ path });
  return { storage, cluster: undefined, description: { db: path }, close: () => storage.close() };
}

/**
 * Served as /sw.js by `--dev` only: the browser's update check of a worker a built demo left on
 * this origin picks it up, and it unregisters itself, so the next load comes from Vite. The
 * real worker is generated by vite-plugin-pwa (Workbox) at build time.
 */
const RETIRE_WORKER = `self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => {
  event.waitUntil(self.registration.unregister().then(() => self.clients.matchAll({ type: 'window' })).then((cs) => {
    for (const c of cs) c.navigate(c.url);
  }));
});
`;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

async function serveStatic(root: string, path: string, req: IncomingMessage, res: ServerResponse) {
  let file = resolve(root, `.${path}`);
  // Never outside the build directory.
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden');
    return;
  }
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    file = join(file, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) {
    // One page app: unknown paths without an extension get the app, anything else a 404.
    if (extname(path) !== '') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    file = join(root, 'index.html');
    info = await stat(file);
  }
  const hashed = file.startsWith(join(root, 'assets') + sep);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    // Vite puts content hashes in asset names; the page, the manifest and the service worker
    // (sw.js: a new build's worker must be seen at the browser's next update check) are
    // revalidated every time.
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((done, fail) => {
    createReadStream(file).on('error', fail).pipe(res).on('finish', done).on('error', fail);
  });
}

// ---------------------------------------------------------------------------------------------
// Command line

const HELP = `Syncline demo: the team board app and a Syncline server on one port.

Usage: node --conditions=syncline-source --import tsx apps/demo/server.ts [options]

Options:
  --port <n>         TCP port (default 8787; 0 picks a free one)  env PORT or SYNCLINE_PORT
  --host <addr>      address to bind (default 127.0.0.1)           env SYNCLINE_HOST
  --db <file>        SQLite database file (default ./syncline.db)  env SYNCLINE_DB
  --postgres <url>   PostgreSQL storage instead of SQLite             env SYNCLINE_PG_URL
  --pg-pool-size <n>, --pg-schema <name>, --redis <url>
                     as for syncline-server (see its --help): run several demo
                     nodes on one PostgreSQL
  --config <file>    ES module with server options (auth, collections, limits, retention, cors),
                     as for syncline-server; the demo's collections are the defaults.
                     Without auth hooks the demo only listens on a loopback --host
  --insecure-dev-auth  INSECURE: development auth on any --host (trusted networks only)
  --log-level <lvl>  debug | info | warn | error | silent (default info)  env SYNCLINE_LOG_LEVEL
  --dev              serve the sources with Vite's hot reload instead of apps/demo/dist
  --help             show this help`;

async function main(): Promise<void> {
  const env = process.env;
  let opts: CliOptions;
  try {
    // The same flags as syncline-server (and PORT, as hosting platforms set it), plus --dev.
    opts = parseCliArgs(
      process.argv.slice(2),
      { ...env, SYNCLINE_PORT: env['PORT'] ?? env['SYNCLINE_PORT'] },
      ['dev'],
    );
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const dev = opts.flags['dev'] === true;
  const logger = createJsonLogger({ level: opts.logLevel });
  const config = opts.config === undefined ? undefined : await loadConfig(opts.config);
  // The same storage flags as syncline-server: SQLite by default, --postgres (+ --redis) too.
  const backend = await openBackend(opts, logger);
  const server = await startDemoServer({
    port: opts.port,
    host: opts.host,
    dbPath: opts.db,
    backend,
    dev,
    logger,
    allowInsecureDevAuth: opts.insecureDevAuth,
    ...(config ? { config } : {}),
  });
  const where = Object.entries(backend.description)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  process.stdout.write(
    `\n  Syncline demo${dev ? ' (dev)' : ''} → ${server.url}   (${where}; Ctrl+C stops)\n\n`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    // A config mistake or a missing driver is the operator's to fix: the message says what.
    const plain = err instanceof SynclineConfigError || err instanceof MissingDependencyError;
    const text = err instanceof Error ? (plain ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(`demo: ${text}\n`);
    process.exit(1);
  });
}
