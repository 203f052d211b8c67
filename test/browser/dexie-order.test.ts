// Plain Dexie keeps behaving like Dexie with Syncline attached, on real IndexedDB in Chromium:
// request order inside a transaction, and the durability the app asked for.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_CASES } from '../integration/helpers/dexie-order-cases.js';
import type { DexieOrderResult } from './fixtures/dexie-order.js';
import type { TestBrowser } from './harness.js';
import { closeSuite, startPageSuite, waitForOk, type PageSuite } from './suite.js';

const ENTRY = fileURLToPath(new URL('./fixtures/dexie-order.ts', import.meta.url));

describe('Dexie with Syncline attached behaves like plain Dexie (real Chromium)', { timeout: 60_000 }, () => {
  let suite: PageSuite | undefined;
  let browser: TestBrowser | undefined;
  let result: (DexieOrderResult & { ok: true }) | undefined;

  beforeAll(async () => {
    suite = await startPageSuite({ bundles: { 'dexie-order': ENTRY } });
    browser = suite.browser;
    const page = await browser.newPage(suite.pages.pageUrl('dexie-order'));
    result = await waitForOk<DexieOrderResult>(page, 'dexie-order fixture failed', 45_000);
  }, 60_000);

  afterAll(() => closeSuite(suite ?? {}), 30_000);

  const done = () => {
    if (result === undefined || browser === undefined) throw new Error('beforeAll did not finish');
    return { result, browser };
  };

  for (const c of ORDER_CASES) {
    it(c.name, () => {
      const report = done().result.cases.find((r) => r.name === c.name);
      expect(report).toEqual({
        name: c.name,
        plain: { value: c.expected },
        syncline: { value: c.expected },
        sameContents: true,
        queue: [],
      });
    });
  }

  it("the app's transactions get the durability it asked for (strict when it did not), and queue their writes", () => {
    expect(done().result.durability).toEqual([
      { requested: 'none', plain: 'default', syncline: 'strict', queued: 1 },
      { requested: 'default', plain: 'default', syncline: 'strict', queued: 1 },
      { requested: 'strict', plain: 'strict', syncline: 'strict', queued: 1 },
      { requested: 'relaxed', plain: 'relaxed', syncline: 'relaxed', queued: 1 },
    ]);
    expect(done().browser.errors).toEqual([]);
  });
});
