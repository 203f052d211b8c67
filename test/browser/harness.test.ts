import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SmokeResult } from './fixtures/indexeddb-smoke.js';
import { screenshot, waitForResult, type BrowserTestServer, type TestBrowser } from './harness.js';
import { usePageSuite } from './suite.js';

const SMOKE_ENTRY = fileURLToPath(new URL('./fixtures/indexeddb-smoke.ts', import.meta.url));
// Nothing listens there: these tests only check that the URL reaches the page.
const SYNC_URL = 'http://127.0.0.1:9/default-sync';
const OTHER_SYNC_URL = 'http://127.0.0.1:9/other-sync';

describe('browser harness (real headless Chromium)', { timeout: 60_000 }, () => {
  const suite = usePageSuite({ bundles: { 'indexeddb-smoke': SMOKE_ENTRY }, syncServerUrl: SYNC_URL });
  const ready = (): { server: BrowserTestServer; browser: TestBrowser } => {
    const { pages, browser } = suite();
    return { server: pages, browser };
  };

  it('round-trips a record through IndexedDB, keeps it across reload and shares it within a context', async () => {
    const { server, browser } = ready();
    const value = `value-${crypto.randomUUID()}`;
    const record = { id: 'smoke', value };

    const pageA = await browser.newPage(server.pageUrl('indexeddb-smoke', { write: value }));
    expect(await waitForResult<SmokeResult>(pageA)).toEqual({
      ok: true,
      before: null,
      after: record,
      durability: 'strict',
      hasLocks: true,
      hasBroadcastChannel: true,
      syncServerUrl: SYNC_URL,
    });
    expect(await pageA.getAttribute('body', 'data-result')).toBe('ok');
    // Later tests rely on these (tab coordination); 127.0.0.1 is a secure context, so locks exist.
    expect(
      await pageA.evaluate(() => ({
        secure: window.isSecureContext,
        locks: typeof navigator.locks.request,
        broadcastChannel: typeof BroadcastChannel,
        indexedDB: typeof indexedDB.open,
      })),
    ).toEqual({ secure: true, locks: 'function', broadcastChannel: 'function', indexedDB: 'function' });

    // Reload: the fixture runs again and first reads what the previous load wrote.
    await pageA.reload();
    expect(await waitForResult<SmokeResult>(pageA)).toMatchObject({ ok: true, before: record });

    // A second page in the same context reads it without writing; `?sync=` overrides the URL.
    const pageB = await browser.newPage(server.pageUrl('indexeddb-smoke', { sync: OTHER_SYNC_URL }));
    expect(await waitForResult<SmokeResult>(pageB)).toMatchObject({
      ok: true,
      before: record,
      after: null,
      durability: null,
      syncServerUrl: OTHER_SYNC_URL,
    });

    // Another context is another profile: its IndexedDB is empty.
    const isolated = await browser.newContext();
    const pageC = await isolated.newPage(server.pageUrl('indexeddb-smoke'));
    expect(await waitForResult<SmokeResult>(pageC)).toMatchObject({ ok: true, before: null });
    await isolated.context.close();

    const png = await screenshot(pageA, 'harness-indexeddb-smoke');
    expect((await stat(png)).size).toBeGreaterThan(0);
    expect(browser.errors).toEqual([]);
  });

  it('collects uncaught page errors and console errors', async () => {
    const { server, browser } = ready();
    const page = await browser.newPage(server.url);
    const pageError = page.waitForEvent('pageerror');
    const consoleError = page.waitForEvent('console', (message) => message.type() === 'error');
    await page.evaluate(() => {
      console.error('harness console check');
      setTimeout(() => {
        throw new Error('harness pageerror check');
      });
    });
    await Promise.all([pageError, consoleError]);
    await page.close();

    const collected = browser.errors.splice(0);
    expect(collected).toHaveLength(2);
    expect(collected).toEqual(
      expect.arrayContaining([
        expect.stringContaining('harness console check'),
        expect.stringMatching(/^pageerror .*harness pageerror check/s),
      ]),
    );
  });
});
