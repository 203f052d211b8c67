// The one-wave apply (reads and writes placed together on the scope row the tab knows, and each
// fallback) on real IndexedDB in Chromium: the same cases and outcomes as the Node test
// (packages/client/test/guessed-apply.test.ts). What fake-indexeddb cannot show: that Chromium
// runs the reads before the writes placed behind them, keeps the transaction open until their
// results are checked, and keeps nothing of an aborted guess.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUESSED_APPLY_CASES } from '../../packages/client/test/guessed-apply-cases.js';
import type { OneWaveResult } from './fixtures/one-wave-apply.js';
import type { TestBrowser } from './harness.js';
import { closeSuite, startPageSuite, waitForOk, type PageSuite } from './suite.js';

const ENTRY = fileURLToPath(new URL('./fixtures/one-wave-apply.ts', import.meta.url));

describe('the one-wave apply (real Chromium)', { timeout: 60_000 }, () => {
  let suite: PageSuite | undefined;
  let browser: TestBrowser | undefined;
  let result: (OneWaveResult & { ok: true }) | undefined;

  beforeAll(async () => {
    suite = await startPageSuite({ bundles: { 'one-wave-apply': ENTRY } });
    browser = suite.browser;
    const page = await browser.newPage(suite.pages.pageUrl('one-wave-apply'));
    result = await waitForOk<OneWaveResult>(page, 'one-wave-apply fixture failed', 45_000);
  }, 60_000);

  afterAll(() => closeSuite(suite ?? {}), 30_000);

  for (const c of GUESSED_APPLY_CASES) {
    it(c.name, () => {
      if (result === undefined || browser === undefined) throw new Error('beforeAll did not finish');
      expect(result.cases.find((r) => r.name === c.name)?.observed).toEqual(c.expected);
      expect(browser.errors).toEqual([]);
    });
  }
});
