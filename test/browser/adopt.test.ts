// Adoption in real headless Chromium: a version 1 app writes rows with plain Dexie; version 2
// adds Syncline, which uploads them; a second device (another browser context) receives them.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { AdoptAppResult } from './fixtures/adopt-app.js';
import type { SyncAppResult } from './fixtures/sync-app.js';
import { useSyncSuite, waitForOk } from './suite.js';

const ADOPT = 'adopt-app';
const SYNC = 'sync-app';
const WAIT_MS = 20_000;
const ROWS = 1000;

const ready = useSyncSuite({
  tmpPrefix: 'syncline-adopt-',
  bundles: {
    [ADOPT]: fileURLToPath(new URL('./fixtures/adopt-app.ts', import.meta.url)),
    [SYNC]: fileURLToPath(new URL('./fixtures/sync-app.ts', import.meta.url)),
  },
});

function open<R extends { ok: boolean }>(page: Page): Promise<R & { ok: true }> {
  return waitForOk<R>(page, 'page failed', WAIT_MS);
}

/** Waits until v2's status shows adoption over and everything uploaded. */
async function uploaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const s = window.adopt?.status();
      return s?.adoption === null && s.phase === 'live' && s.pending === 0 && s.isLeader;
    },
    undefined,
    { timeout: WAIT_MS },
  );
}

describe('adopting existing rows in real Chromium', { timeout: 90_000 }, () => {
  it('v1 rows written with plain Dexie are uploaded by v2 and reach a second device', async () => {
    const { browser: b, pages } = ready();
    const board = `adopt-${crypto.randomUUID().slice(0, 8)}`;
    const db = `adopt-db-${crypto.randomUUID().slice(0, 8)}`;
    const deviceA = await b.newContext();
    const v1 = await deviceA.newPage(pages.pageUrl(ADOPT, { phase: 'v1', db, board, rows: String(ROWS) }));
    expect(await open<AdoptAppResult>(v1)).toEqual({ ok: true, phase: 'v1', rows: ROWS });
    await v1.close();

    const v2 = await deviceA.newPage(pages.pageUrl(ADOPT, { phase: 'v2', db, board }));
    expect(await open<AdoptAppResult>(v2)).toMatchObject({ phase: 'v2', rows: ROWS });
    await uploaded(v2);
    const seen = await v2.evaluate(() => window.adopt!.adoptionSeen());
    expect(seen.maxDone).toBe(ROWS);
    expect(seen.emissions).toBeGreaterThan(1);
    expect(await v2.evaluate(() => window.adopt!.serverCount())).toEqual({ count: ROWS, head: ROWS });

    // An edit of an adopted row syncs like any other.
    await v2.evaluate(() => window.adopt!.rename('r00042', 'edited'));
    await uploaded(v2);
    expect(await v2.evaluate(() => window.adopt!.serverCount())).toEqual({ count: ROWS, head: ROWS + 1 });

    const deviceB = await b.newContext();
    const other = await deviceB.newPage(pages.pageUrl(SYNC, { db: `other-${board}`, board }));
    await open<SyncAppResult>(other);
    await expect
      .poll(() => other.evaluate(async () => (await window.app!.cards()).length), { timeout: WAIT_MS })
      .toBe(ROWS);
    expect(await other.evaluate(() => window.app!.get('r00042'))).toEqual({
      id: 'r00042',
      board,
      title: 'edited',
    });
    expect(await other.evaluate(() => window.app!.get('r00999'))).toEqual({
      id: 'r00999',
      board,
      title: 'row 999',
    });
    expect(b.errors).toEqual([]);
    await deviceA.context.close();
    await deviceB.context.close();
  });
});
