import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSyncServer, silentLogger, SqliteStorage } from '@syncline/server';
import { startBrowserTestServer } from '../../test/browser/harness.js';
import type { RunContext } from '../scenario.js';
import { sqliteDb, type ServerDb } from '../server-db.js';
import { CdpBrowser, type CdpPage } from '../../test/browser/cdp-browser.js';

const ENTRY = fileURLToPath(new URL('./chaos-app.ts', import.meta.url));

/** One run's browser set-up: a sync server (SQLite), the page host, Chromium driven over CDP. */
export interface BrowserRig {
  readonly syncUrl: string;
  readonly db: ServerDb;
  /** Opens a tab of device `dbName` and waits until its client started. */
  open(dbName: string, tab: string): Promise<CdpPage>;
  /** Freezes or wakes a tab opened as `tab` (`Page.setWebLifecycleState`). */
  freeze(tab: string, state: 'frozen' | 'active'): Promise<void>;
  /** Hangs or un-hangs a tab's JavaScript (`Debugger.pause`): no `freeze` event. */
  hang(tab: string, hung: boolean): Promise<void>;
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
  const browser = await CdpBrowser.launch();
  ctx.defer(() => browser.close());
  const tabs = new Map<string, CdpPage>();
  const tabOf = (tab: string): CdpPage => {
    const page = tabs.get(tab);
    if (page === undefined) throw new Error(`no tab ${tab}`);
    return page;
  };

  return {
    syncUrl,
    db,
    async open(dbName, tab) {
      const page = await browser.open(pages.pageUrl('chaos-app', { db: dbName, tab }));
      tabs.set(tab, page);
      ctx.defer(() => page.close());
      const started = await page.waitForResult<{ ok: boolean; error?: string }>(30_000);
      if (!started.ok) throw new Error(`page did not start: ${started.error ?? ''}`);
      return page;
    },
    freeze: async (tab, state) => {
      await tabOf(tab).setLifecycle(state);
    },
    hang: async (tab, hung) => {
      await tabOf(tab).hang(hung);
    },
  };
}

/** Waits until the tab is live with nothing pending and its hash of `scope` equals the server's. */
export async function pageConverged(page: CdpPage, scope: string, timeoutMs: number): Promise<void> {
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
