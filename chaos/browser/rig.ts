import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { createSyncServer, silentLogger, SqliteStorage } from '@syncline/server';
import { freePort } from '@syncline/test-support';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/browser/chromium-flags.js';
import { startBrowserTestServer, waitForResult } from '../../test/browser/harness.js';
import type { RunContext } from '../scenario.js';
import { sqliteDb, type ServerDb } from '../server-db.js';

const ENTRY = fileURLToPath(new URL('./chaos-app.ts', import.meta.url));

/** One run's browser set-up: a sync server (SQLite), the page host, Chromium with a CDP port. */
export interface BrowserRig {
  readonly syncUrl: string;
  readonly db: ServerDb;
  readonly context: BrowserContext;
  /** Opens a tab of device `dbName` and waits until its client started. */
  open(dbName: string, tab: string): Promise<Page>;
  /** Freezes a tab over a raw CDP connection (`Page.setWebLifecycleState`). */
  freeze(tab: string, state: 'frozen' | 'active'): Promise<void>;
}

export async function startBrowserRig(ctx: RunContext): Promise<BrowserRig> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-chaos-'));
  ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sync.db');
  const pages = await startBrowserTestServer();
  ctx.defer(() => pages.close());
  // In this process (a tab is the client that fails here, not the server); the pages come from
  // another port, so another origin, which the server must allow.
  const storage = await SqliteStorage.open({ path: file });
  ctx.defer(() => storage.close());
  const sync = createSyncServer({
    storage,
    auth: 'development',
    logger: silentLogger,
    cors: { origins: [pages.url] },
  });
  ctx.defer(() => sync.close());
  const syncUrl = (await sync.listen(0, '127.0.0.1')).url;
  pages.setSyncServerUrl(syncUrl);
  const db = sqliteDb(file);
  ctx.defer(() => db.close());
  await pages.addBundle('chaos-app', ENTRY);
  const cdpPort = await freePort();
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, `--remote-debugging-port=${cdpPort}`],
    headless: true,
    timeout: 60_000,
  });
  ctx.defer(() => browser.close());
  const context = await browser.newContext();
  context.setDefaultTimeout(30_000);

  // One raw CDP connection per tab, open until the run ends: a page's lifecycle override is
  // the session's, and closing the connection right away could undo the freeze.
  const sessions = new Map<string, Promise<WebSocket>>();
  let nextId = 1;
  const connect = async (tab: string): Promise<WebSocket> => {
    const targets = (await (await fetch(`http://127.0.0.1:${cdpPort}/json/list`)).json()) as {
      type: string;
      url: string;
      webSocketDebuggerUrl: string;
    }[];
    const target = targets.find((t) => t.type === 'page' && new URL(t.url).searchParams.get('tab') === tab);
    if (target === undefined) throw new Error(`no CDP target for tab ${tab}`);
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    ws.on('error', () => undefined);
    ctx.defer(() => ws.close());
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return ws;
  };
  const cdp = async (tab: string, method: string, params: object) => {
    let session = sessions.get(tab);
    if (session === undefined) sessions.set(tab, (session = connect(tab)));
    const ws = await session;
    const id = nextId++;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (data: Buffer) => {
        const msg = JSON.parse(data.toString()) as { id?: number; error?: { message: string } };
        if (msg.id !== id) return;
        ws.off('message', onMessage);
        if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
        else resolve();
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  };

  return {
    syncUrl,
    db,
    context,
    async open(dbName, tab) {
      const page = await context.newPage();
      await page.goto(pages.pageUrl('chaos-app', { db: dbName, tab }));
      const started = await waitForResult<{ ok: boolean; error?: string }>(page, 30_000);
      if (!started.ok) throw new Error(`page did not start: ${started.error ?? ''}`);
      return page;
    },
    freeze: async (tab, state) => {
      await cdp(tab, 'Page.enable', {});
      await cdp(tab, 'Page.setWebLifecycleState', { state });
    },
  };
}

/** Waits until the tab is live with nothing pending and its hash of `scope` equals the server's. */
export async function pageConverged(page: Page, scope: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await page.evaluate(() => window.chaos!.status());
    if (status?.phase === 'live' && status.pending === 0) {
      const h = await page.evaluate((s) => window.chaos!.hashes(s), scope);
      if (h.local === h.server) return;
    }
    if (Date.now() > deadline)
      throw new Error(`tab not converged in ${timeoutMs} ms: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
