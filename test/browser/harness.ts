// Real-headless-Chromium harness for browser tests (runs in Node under vitest).
//
//   const entry = fileURLToPath(new URL('./fixtures/my-page.ts', import.meta.url));
//   const server = await startBrowserTestServer({ syncServerUrl });
//   await server.addBundle('my-page', entry); // esbuild-bundles it now, so build errors fail here
//   const browser = await launchBrowser();
//   const page = await browser.newPage(server.pageUrl('my-page'));
//   const result = await waitForResult<MyResult>(page);
//   expect(browser.errors).toEqual([]);
//   afterAll: await browser.close(); await server.close();
//
// A page at /page/<name> runs /bundle/<name>.js after an inline script that sets
// `window.__SYNCLINE_URL__` (see ./globals.d.ts): the `syncServerUrl` given to the server, or the
// page URL's `?sync=` query parameter when present. Fixtures report back by setting `window.__result`.
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium-flags.js';
import { waitForChromiumInstall } from './chromium-install.js';

// `pnpm test` may still be installing Chromium in the background: wait at load, not in a hook.
await waitForChromiumInstall();

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAUNCH_TIMEOUT_MS = 30_000;
const ACTION_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Bundling

const bundles = new Map<string, Promise<string>>();

/** esbuild-bundles a TypeScript entry (absolute path) into one browser IIFE; cached per process. */
export function bundle(entry: string): Promise<string> {
  let pending = bundles.get(entry);
  if (pending === undefined) {
    pending = buildBundle(entry);
    bundles.set(entry, pending);
    // A failed build is not cached: the next call retries (after the author fixes the file).
    pending.catch(() => bundles.delete(entry));
  }
  return pending;
}

async function buildBundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    conditions: ['syncline-source'],
    target: 'es2022',
    sourcemap: 'inline',
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}

// ---------------------------------------------------------------------------------------------
// Static server for pages and bundles

export interface BrowserTestServerOptions {
  /** Exposed to pages as `window.__SYNCLINE_URL__` (a page's `?sync=` query parameter wins). */
  syncServerUrl?: string;
}

export interface BrowserTestServer {
  /** Origin, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly url: string;
  /** Registers `/page/<name>` + `/bundle/<name>.js` and bundles the entry right away. */
  addBundle: (name: string, entryPath: string) => Promise<void>;
  /** `${url}/page/<name>` with the given query parameters (e.g. `{ sync: url, write: 'x' }`). */
  pageUrl: (name: string, query?: Readonly<Record<string, string>>) => string;
  /** Changes the default `window.__SYNCLINE_URL__` for pages loaded from now on. */
  setSyncServerUrl: (url: string | undefined) => void;
  close: () => Promise<void>;
}

const BUNDLE_NAME = /^[A-Za-z0-9_-]+$/;

export async function startBrowserTestServer(
  options: BrowserTestServerOptions = {},
): Promise<BrowserTestServer> {
  let syncServerUrl = options.syncServerUrl;
  const entries = new Map<string, string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = requestUrl.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only');
    if (path === '/') return send(res, 200, 'text/html', htmlPage('Syncline browser test', undefined, ''));
    const page = /^\/page\/([^/]+)$/.exec(path);
    if (page?.[1] !== undefined && entries.has(page[1])) {
      const sync = requestUrl.searchParams.get('sync') ?? syncServerUrl;
      return send(res, 200, 'text/html', htmlPage(page[1], sync, `/bundle/${page[1]}.js`));
    }
    const script = /^\/bundle\/([^/]+)\.js$/.exec(path);
    const entry = script?.[1] === undefined ? undefined : entries.get(script[1]);
    if (entry !== undefined) return send(res, 200, 'text/javascript', await bundle(entry));
    return send(res, 404, 'text/plain', `not found: ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', String(error));
      else res.destroy();
    });
  });
  server.requestTimeout = ACTION_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    addBundle: async (name, entryPath) => {
      if (!BUNDLE_NAME.test(name)) throw new Error(`bundle name must match ${String(BUNDLE_NAME)}: ${name}`);
      entries.set(name, entryPath);
      await bundle(entryPath);
    },
    pageUrl: (name, query = {}) => {
      const page = new URL(`/page/${name}`, url);
      for (const [key, value] of Object.entries(query)) page.searchParams.set(key, value);
      return page.href;
    },
    setSyncServerUrl: (next) => {
      syncServerUrl = next;
    },
    close: () =>
      withTimeout(
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error === undefined ? resolve() : reject(error)));
          // Chromium keeps idle keep-alive sockets open; without this close() waits for them.
          server.closeAllConnections();
        }),
        CLOSE_TIMEOUT_MS,
        'closing the browser test server',
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

function htmlPage(title: string, syncServerUrl: string | undefined, scriptSrc: string): string {
  // JSON with `<` escaped is a safe JS literal inside <script>.
  const literal = (value: unknown): string => (JSON.stringify(value) ?? 'undefined').replace(/</g, '\\u003c');
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    // An empty icon stops Chromium from requesting /favicon.ico (its 404 would be a console error).
    '<link rel="icon" href="data:,">',
    `<title>${title.replace(/[<&]/g, '')}</title>`,
    `<script>window.__SYNCLINE_URL__ = ${literal(syncServerUrl)};</script>`,
    // `defer`: the bundle runs once <body> exists, after the inline script above.
    scriptSrc === '' ? '' : `<script defer src="${scriptSrc}"></script>`,
    '</head><body></body></html>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Chromium

export interface TestContext {
  readonly context: BrowserContext;
  /** Opens a page in this context and navigates it to `url` (waits for `load`). */
  newPage: (url: string) => Promise<Page>;
}

export interface TestBrowser extends TestContext {
  readonly browser: Browser;
  /**
   * Console errors, uncaught page errors and crashes from every page of every context, as text.
   * Assert `expect(b.errors).toEqual([])` at the end of a test.
   */
  readonly errors: string[];
  /** A separate context: its own storage (IndexedDB, locks, BroadcastChannel), like a second device. */
  newContext: () => Promise<TestContext>;
  close: () => Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
  });
  const errors: string[] = [];

  const newContext = async (): Promise<TestContext> => {
    const context = await browser.newContext();
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    context.on('console', (message) => {
      if (message.type() === 'error') {
        const { url, lineNumber } = message.location();
        errors.push(`console.error ${url}:${lineNumber}: ${message.text()}`);
      }
    });
    context.on('weberror', (webError) => {
      const error = webError.error();
      errors.push(`pageerror ${webError.page()?.url() ?? '?'}: ${error.stack ?? error.message}`);
    });
    context.on('page', (page) => page.on('crash', () => errors.push(`crash ${page.url()}`)));
    return {
      context,
      newPage: async (url) => {
        const page = await context.newPage();
        await page.goto(url);
        return page;
      },
    };
  };

  try {
    const main = await newContext();
    return {
      browser,
      errors,
      context: main.context,
      newPage: main.newPage,
      newContext,
      close: () => withTimeout(browser.close(), CLOSE_TIMEOUT_MS, 'closing Chromium'),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/**
 * Waits until the page's fixture sets `window.__result`, then returns it (JSON-serialized out of
 * the page). The caller states the shape; fixtures export their result type for `import type`.
 * An uncaught error in the page while waiting rejects at once instead of running into the timeout.
 */
export async function waitForResult<T>(page: Page, timeout = ACTION_TIMEOUT_MS): Promise<T> {
  const result = page.waitForFunction(() => window.__result, undefined, { timeout });
  let onPageError: ((error: Error) => void) | undefined;
  const pageError = new Promise<never>((_, reject) => {
    onPageError = (error) =>
      reject(new Error(`page error while waiting for window.__result: ${error.stack ?? error.message}`));
    page.on('pageerror', onPageError);
  });
  try {
    const handle = await Promise.race([result, pageError]);
    try {
      return (await handle.jsonValue()) as T;
    } finally {
      await handle.dispose();
    }
  } catch (error) {
    result.catch(() => undefined); // still polling after a page error: don't leave it unhandled
    throw error;
  } finally {
    if (onPageError !== undefined) page.off('pageerror', onPageError);
  }
}

/** Writes `artifacts/screenshots/<name>.png` at the repo root and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(REPO_ROOT, 'artifacts', 'screenshots');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
