/**
 * Serves benchmark pages to Chromium from http://127.0.0.1 (a secure context, so Web Locks work):
 * `/page/<name>` loads `/bundle/<name>.js`, an esbuild production bundle of a `*.page.ts(x)`
 * entry, and `/data/<name>.json` serves payloads registered from Node (B6's rows for the floor
 * and the peer). Bundles use the `syncline-source` condition, like the tests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { withTimeout } from './deadline.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NAME = /^[A-Za-z0-9_-]+$/;

export interface PageHost {
  /** Origin, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Bundles `entry` (absolute path) now, so a build error fails before any browser starts. */
  addBundle(name: string, entry: string): Promise<void>;
  /** Serves `body` (JSON text) at `/data/<name>.json`. */
  addData(name: string, body: string): void;
  pageUrl(name: string, query?: Readonly<Record<string, string>>): string;
  close(): Promise<void>;
}

export async function bundlePage(entry: string, minify = true): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    conditions: ['syncline-source'],
    target: 'es2022',
    jsx: 'automatic',
    // Production React and no dev-only checks: we measure what an app ships.
    define: { 'process.env.NODE_ENV': '"production"' },
    // Unminified bundles keep function names, for profiles.
    minify,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}

export async function startPageHost(opts: { minify?: boolean } = {}): Promise<PageHost> {
  const bundles = new Map<string, string>();
  const data = new Map<string, string>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const [, kind, file] = /^\/(page|bundle|data)\/([^/]+)$/.exec(path) ?? [];
    const name = file?.replace(/\.(js|json)$/, '');
    if (kind === 'page' && name !== undefined && bundles.has(name)) {
      const html = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>${name}</title><script defer src="/bundle/${name}.js"></script></head><body></body></html>`;
      return send(res, 200, 'text/html', html);
    }
    const script = kind === 'bundle' && name !== undefined ? bundles.get(name) : undefined;
    if (script !== undefined) return send(res, 200, 'text/javascript', script);
    const json = kind === 'data' && name !== undefined ? data.get(name) : undefined;
    if (json !== undefined) return send(res, 200, 'application/json', json);
    send(res, 404, 'text/plain', `not found: ${path}`);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    addBundle: async (name, entry) => {
      if (!NAME.test(name)) throw new Error(`bad bundle name ${name}`);
      bundles.set(name, await bundlePage(entry, opts.minify ?? true));
    },
    addData: (name, body) => {
      if (!NAME.test(name)) throw new Error(`bad data name ${name}`);
      data.set(name, body);
    },
    pageUrl: (name, query = {}) => {
      const page = new URL(`/page/${name}`, url);
      for (const [key, value] of Object.entries(query)) page.searchParams.set(key, value);
      return page.href;
    },
    close: () =>
      withTimeout(
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Chromium keeps idle keep-alive sockets open; close() would wait for them.
          server.closeAllConnections();
        }),
        10_000,
        'closing the page host',
      ),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
