// The setup and teardown the browser test files share: a temp dir, SQLite storage, a sync server
// on 127.0.0.1, the page host with its bundles and Chromium; closed browser first, temp dir last.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import {
  createSyncServer,
  silentLogger,
  SqliteStorage,
  type SyncServer,
  type SyncServerOptions,
} from '@syncline/server';
import {
  launchBrowser,
  startBrowserTestServer,
  waitForResult,
  type BrowserTestServer,
  type TestBrowser,
} from './harness.js';

/** What a suite may have started; {@link closeSuite} closes whatever is set. */
export interface SuiteParts {
  tmp?: string | undefined;
  storage?: SqliteStorage | undefined;
  pages?: BrowserTestServer | undefined;
  sync?: SyncServer | undefined;
  browser?: TestBrowser | undefined;
}

export interface SyncSuite {
  tmp: string;
  storage: SqliteStorage;
  pages: BrowserTestServer;
  sync: SyncServer;
  /** The sync server's URL (also the pages' default `window.__SYNCLINE_URL__`). */
  syncUrl: string;
  browser: TestBrowser;
}

export interface SyncSuiteOptions {
  /** Prefix of the temp dir (under the OS temp dir) that holds `sync.db`. */
  tmpPrefix: string;
  /** Bundle name → fixture entry path, added to the page host. */
  bundles: Readonly<Record<string, string>>;
  /**
   * Sync server options over the defaults (`auth: 'development'`, silent logger, CORS for the
   * page host's origin), given that origin.
   */
  server?: (pagesUrl: string) => Partial<Omit<SyncServerOptions, 'storage'>>;
  /** Called with the sync server before it listens (e.g. to watch connections). */
  onServer?: (sync: SyncServer) => void;
}

/** Closes the browser, then the page host, sync server and storage, then removes the temp dir. */
export async function closeSuite(parts: SuiteParts): Promise<void> {
  try {
    await parts.browser?.close();
  } finally {
    try {
      await parts.pages?.close();
      await parts.sync?.close();
      await parts.storage?.close();
    } finally {
      if (parts.tmp !== undefined) await rm(parts.tmp, { recursive: true, force: true });
    }
  }
}

/** Starts everything; if a step fails, closes what it had started and rethrows. */
export async function startSyncSuite(options: SyncSuiteOptions): Promise<SyncSuite> {
  const parts: SuiteParts = {};
  try {
    const tmp = (parts.tmp = await mkdtemp(join(tmpdir(), options.tmpPrefix)));
    const storage = (parts.storage = await SqliteStorage.open({ path: join(tmp, 'sync.db') }));
    const pages = (parts.pages = await startBrowserTestServer());
    // The pages come from another port, so another origin: the server must allow it explicitly.
    const sync = (parts.sync = createSyncServer({
      storage,
      auth: 'development',
      logger: silentLogger,
      cors: { origins: [pages.url] },
      ...options.server?.(pages.url),
    }));
    options.onServer?.(sync);
    const syncUrl = (await sync.listen(0, '127.0.0.1')).url;
    pages.setSyncServerUrl(syncUrl);
    for (const [name, entry] of Object.entries(options.bundles)) await pages.addBundle(name, entry);
    const browser = (parts.browser = await launchBrowser());
    return { tmp, storage, pages, sync, syncUrl, browser };
  } catch (error) {
    await closeSuite(parts);
    throw error;
  }
}

/**
 * Runs `start` in `beforeAll` and closes what it started in `afterAll`; returns a getter that
 * throws if `beforeAll` did not finish.
 */
function useSuite<S extends SuiteParts>(start: () => Promise<S>): () => S {
  let suite: S | undefined;
  beforeAll(async () => {
    suite = await start();
  }, 60_000);
  afterAll(async () => {
    if (suite !== undefined) await closeSuite(suite);
  }, 30_000);
  return () => {
    if (suite === undefined) throw new Error('beforeAll did not finish');
    return suite;
  };
}

/** {@link startSyncSuite} in `beforeAll`, closed in `afterAll`. */
export function useSyncSuite(options: SyncSuiteOptions): () => SyncSuite {
  return useSuite(() => startSyncSuite(options));
}

export interface PageSuite {
  pages: BrowserTestServer;
  browser: TestBrowser;
}

export interface PageSuiteOptions {
  /** Bundle name → fixture entry path, added to the page host. */
  bundles: Readonly<Record<string, string>>;
  /** The pages' default `window.__SYNCLINE_URL__`. */
  syncServerUrl?: string;
}

/** The page host with its bundles and Chromium, without a sync server. */
export async function startPageSuite(options: PageSuiteOptions): Promise<PageSuite> {
  const parts: SuiteParts = {};
  try {
    const pages = (parts.pages = await startBrowserTestServer(
      options.syncServerUrl === undefined ? {} : { syncServerUrl: options.syncServerUrl },
    ));
    for (const [name, entry] of Object.entries(options.bundles)) await pages.addBundle(name, entry);
    const browser = (parts.browser = await launchBrowser());
    return { pages, browser };
  } catch (error) {
    await closeSuite(parts);
    throw error;
  }
}

/** {@link startPageSuite} in `beforeAll`, closed in `afterAll`. */
export function usePageSuite(options: PageSuiteOptions): () => PageSuite {
  return useSuite(() => startPageSuite(options));
}

/** Waits for the page's fixture result and throws `${failure}: ${error}` unless it is ok. */
export async function waitForOk<R extends { ok: boolean }>(
  page: Page,
  failure: string,
  timeout?: number,
): Promise<R & { ok: true }> {
  const result = await waitForResult<R | { ok: false; error: string }>(page, timeout);
  if (!result.ok) throw new Error(`${failure}: ${(result as { error: string }).error}`);
  return result as R & { ok: true };
}
