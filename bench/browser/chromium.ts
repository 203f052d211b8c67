/**
 * Debian's Chromium for the browser benchmarks, driven by playwright-core (which never downloads
 * a browser). Launched as a browser server so the process can be killed by its id if a graceful
 * close hangs. Console errors and page errors fail the benchmark: a page that logged an error
 * measured something else.
 */
import { chromium, type Browser, type BrowserContext, type BrowserServer, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/browser/chromium-flags.js';
import { withTimeout } from './deadline.js';

/** The browser tests' launch flags, plus what driving two pages at once needs. */
const BENCH_ARGS = [
  ...CHROMIUM_ARGS,
  // Background pages must not be throttled: B2 drives two pages at once.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

export interface BenchBrowser {
  readonly browser: Browser;
  /** A fresh context: its own IndexedDB, Web Locks and BroadcastChannel (a separate device). */
  newContext(): Promise<BrowserContext>;
  /** Opens `url` in `context` and waits until the page's bench API is ready. */
  openPage(context: BrowserContext, url: string): Promise<Page>;
  /** Throws if any page logged an error or crashed so far. */
  assertNoErrors(): void;
  close(): Promise<void>;
}

export async function launchBenchBrowser(): Promise<BenchBrowser> {
  const server: BrowserServer = await chromium.launchServer({
    executablePath: CHROMIUM_PATH,
    args: BENCH_ARGS,
    headless: true,
    timeout: 30_000,
  });
  const errors: string[] = [];
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint(), { timeout: 30_000 });
  } catch (error) {
    await server.kill();
    throw error;
  }

  return {
    browser,
    newContext: async () => {
      const context = await browser.newContext();
      context.setDefaultTimeout(30_000);
      context.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
      });
      context.on('weberror', (e) => errors.push(`page error: ${e.error().stack ?? e.error().message}`));
      context.on('page', (page) => page.on('crash', () => errors.push(`crash ${page.url()}`)));
      return context;
    },
    openPage: async (context, url) => {
      const page = await context.newPage();
      await page.goto(url);
      const state = await page.waitForFunction(
        () => (globalThis as unknown as { __benchState?: string }).__benchState,
        undefined,
        { timeout: 30_000 },
      );
      const value = (await state.jsonValue()) as string;
      if (value !== 'ready') throw new Error(`${url} failed to start: ${value}`);
      return page;
    },
    assertNoErrors: () => {
      if (errors.length > 0) throw new Error(`browser errors:\n${errors.join('\n')}`);
    },
    close: async () => {
      try {
        await withTimeout(browser.close(), 10_000, 'closing Chromium');
      } finally {
        // Stops the process by its id if it is still there (a no-op after a clean close).
        await server.kill();
      }
    },
  };
}
