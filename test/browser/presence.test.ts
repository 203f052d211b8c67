// Presence in real headless Chromium: a closed page (its WebSocket goes with it), a closed
// follower tab (its goodbye goes through the leader tab), and a browser that loses its network.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { PresenceAppResult } from './fixtures/presence-app.js';
import type { TestContext } from './harness.js';
import { useSyncSuite, waitForOk } from './suite.js';

const APP_ENTRY = fileURLToPath(new URL('./fixtures/presence-app.ts', import.meta.url));
const APP = 'presence-app';
/** "Within a few seconds": the socket heartbeat notices a lost link in at most 4 s. */
const GONE_MS = 6_000;

const ready = useSyncSuite({ tmpPrefix: 'syncline-browser-presence-', bundles: { [APP]: APP_ENTRY } });

const contexts: TestContext[] = [];
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.context.close();
});

async function device(): Promise<TestContext> {
  const context = await ready().browser.newContext();
  contexts.push(context);
  return context;
}

async function open(on: TestContext, query: Record<string, string>): Promise<Page> {
  const page = await on.newPage(ready().pages.pageUrl(APP, query));
  await waitForOk<PresenceAppResult>(page, 'presence-app failed to start');
  return page;
}

/** Waits (in the page) until the states of the others it sees are exactly `states` (sorted). */
async function othersAre(page: Page, states: string[], timeout = GONE_MS): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const got = (window.presenceApp?.members() ?? [])
        .filter((m) => !m.self)
        .map((m) => JSON.stringify(m.state))
        .sort();
      return JSON.stringify(got) === JSON.stringify(want);
    },
    [...states].sort().map((s) => JSON.stringify(s)),
    { timeout, polling: 50 },
  );
}

const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

describe('presence in real Chromium', { timeout: 60_000 }, () => {
  it('a closed page and a closed follower tab disappear from the other device within seconds', async () => {
    const watcher = await open(await device(), { db: unique('w'), user: 'ann', state: 'ann' });
    const other = await device();
    const db = unique('b');
    const leaderTab = await open(other, { db, user: 'ben', state: 'ben-1' });
    const followerTab = await open(other, { db, user: 'ben', state: 'ben-2' });
    await othersAre(watcher, ['ben-1', 'ben-2']);
    // The follower sees the watcher through the leader tab's socket.
    await othersAre(followerTab, ['ann', 'ben-1']);
    await followerTab.close();
    await othersAre(watcher, ['ben-1']);
    await leaderTab.close();
    await othersAre(watcher, []);
    expect(ready().browser.errors).toEqual([]);
  });

  it('a device that loses its network disappears, and is back after it reconnects', async () => {
    const watcher = await open(await device(), { db: unique('w'), user: 'ann' });
    const other = await device();
    await open(other, { db: unique('b'), user: 'ben', state: 'ben' });
    await othersAre(watcher, ['ben']);
    await other.context.setOffline(true);
    await othersAre(watcher, []);
    await other.context.setOffline(false);
    await othersAre(watcher, ['ben'], 15_000);
  });
});
