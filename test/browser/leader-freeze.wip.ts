// WORK IN PROGRESS, not run (not a *.test.ts): under raw CDP the frozen leader still blocks the
// follower's IndexedDB writes after a few puts (see the report of issue 16, leader part).
// A leader tab frozen (Page Lifecycle, over a raw DevTools connection) while a follower tab of
// the same profile writes: the follower takes the lease over and its writes reach the server
// within 10 s; the old leader, unfrozen, steps down without sending anything twice.
// Chromium is launched and driven over raw CDP (see raw-cdp.ts: playwright-core keeps a page
// from freezing).
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSyncServer, MemoryStorage, silentLogger, type SyncServer } from '@syncline/server';
import type { SyncStatus } from '@syncline/client';
import type { Card } from './fixtures/sync-app.js';
import { startBrowserTestServer, type BrowserTestServer } from './harness.js';
import { launchRawChromium, type RawChromium, type RawPage } from './raw-cdp.js';

const APP_ENTRY = fileURLToPath(new URL('./fixtures/sync-app.ts', import.meta.url));
const APP = 'sync-app';
/** The bound for a take-over (10 s), plus a margin for connecting on a loaded machine. */
const TAKE_OVER_MS = 13_000;
const BURST = 20;

/** Every push frame the server received: when, on which socket, which mids. */
const pushes: { at: number; socket: string; mids: number[] }[] = [];
/** The sockets connected so far. */
const sockets: string[] = [];
/** Sockets whose pushes the server holds for `SLOW_MS` before handling them. */
const slow = new Set<string>();
const SLOW_MS = 15_000;
let pages: BrowserTestServer | undefined;
let sync: SyncServer | undefined;
let chromium: RawChromium | undefined;

beforeAll(async () => {
  pages = await startBrowserTestServer();
  sync = createSyncServer({
    storage: new MemoryStorage(),
    auth: 'development',
    logger: silentLogger,
    cors: { origins: [pages.url] },
  });
  sync.io.on('connection', (socket) => {
    sockets.push(socket.id);
    socket.use(([event, payload], next) => {
      if (event !== 'push') return next();
      const { mutations } = payload as { mutations?: { mid: number }[] };
      pushes.push({ at: Date.now(), socket: socket.id, mids: (mutations ?? []).map((m) => m.mid) });
      if (slow.has(socket.id)) setTimeout(next, SLOW_MS).unref();
      else next();
    });
  });
  pages.setSyncServerUrl((await sync.listen(0, '127.0.0.1')).url);
  await pages.addBundle(APP, APP_ENTRY);
  chromium = await launchRawChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await pages?.close();
  await sync?.close();
}, 30_000);

const status = (page: RawPage) => page.evaluate<SyncStatus | null>('window.app?.status() ?? null');

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const put = (page: RawPage, card: Card) => page.evaluate(`window.app.put(${JSON.stringify(card)})`);

it(
  'a frozen leader tab hands sync over within 10 s and steps down without sending twice',
  { timeout: 90_000 },
  async () => {
    const board = `freeze-${crypto.randomUUID().slice(0, 8)}`;
    const db = `${board}-device`;
    const tabs: RawPage[] = [];
    for (const tab of ['a', 'b']) {
      const page = await chromium!.open(pages!.pageUrl(APP, { db, board, tab }));
      await waitFor(
        'the app starts',
        async () => await page.evaluate<boolean>('window.__result?.ok === true'),
        15_000,
      );
      tabs.push(page);
    }
    await waitFor(
      'one tab leads',
      async () => (await Promise.all(tabs.map(status))).filter((s) => s?.isLeader).length === 1,
      10_000,
    );
    const leaderIndex = (await status(tabs[0]!))?.isLeader ? 0 : 1;
    const leader = tabs[leaderIndex]!;
    const follower = tabs[1 - leaderIndex]!;
    await waitFor('the leader is live', async () => (await status(leader))?.phase === 'live', 10_000);

    // A clock in the leader page: a frozen page runs no timer, so its ticks show a gap.
    await leader.evaluate('window.ticks = []; setInterval(() => window.ticks.push(Date.now()), 100); 1');
    // The leader's pushes wait for their answers, as over a slow link: it is frozen then, between
    // IndexedDB transactions (a page frozen inside one blocks the database for every tab).
    for (const id of sockets) slow.add(id);
    const oldSockets = new Set(sockets); // the old leader's connection (the follower had none)
    const card = (i: number): Card => ({ id: `c${String(i).padStart(2, '0')}`, board, title: `burst ${i}` });
    for (let i = 0; i < BURST / 2; i++) await put(follower, card(i));
    await waitFor('the leader sends the first half', async () => pushes.length > 0, 10_000);
    await new Promise((r) => setTimeout(r, 1_000)); // its live queries of the outbox settle
    await leader.send('Page.setWebLifecycleState', { state: 'frozen' });
    const frozenAt = Date.now();
    // The rest of the burst, written while the leader is frozen.
    for (let i = BURST / 2; i < BURST; i++) await put(follower, card(i));
    const wroteAt = Date.now();

    // Without a lease this waits until the leader is unfrozen: bounded here.
    await waitFor(
      'the follower takes over and pushes the second half',
      async () => {
        const s = await status(follower);
        return s?.isLeader === true && s.connected && s.pending === 0;
      },
      TAKE_OVER_MS,
    );
    const tookMs = Date.now() - wroteAt;
    console.log(`leader-freeze: the follower's writes were acknowledged ${tookMs} ms after the burst`);

    await leader.send('Page.setWebLifecycleState', { state: 'active' });
    const unfrozenAt = Date.now();
    const frozenMs = unfrozenAt - frozenAt;
    // The freeze was real: the leader's timer did not run while it lasted.
    const gap = await leader.evaluate<number>(
      'Math.max(0, ...window.ticks.slice(1).map((t, i) => t - window.ticks[i]))',
    );
    expect(gap).toBeGreaterThan(frozenMs - 1_000);

    // The old leader steps down; the follower keeps leading.
    await waitFor(
      'the old leader steps down',
      async () => (await status(leader))?.isLeader === false,
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1_000)); // room for a stray push to arrive
    expect((await status(follower))?.isLeader).toBe(true);
    expect((await status(leader))?.isLeader).toBe(false);
    const serverHash = await follower.evaluate<{ count: number }>('window.app.serverHash()');
    expect(serverHash.count).toBe(BURST);
    // Every mid reached the server. The old leader sent nothing once it woke; a mid went out twice
    // only when the old leader's push was on the wire as it froze (its answer never read) and the
    // new leader sent it again (the server answers `duplicate`, applying it once).
    const mids = pushes.flatMap((p) => p.mids);
    expect([...new Set(mids)].sort((a, b) => a - b)).toEqual(Array.from({ length: BURST }, (_, i) => i + 1));
    expect(pushes.filter((p) => oldSockets.has(p.socket) && p.at >= unfrozenAt)).toEqual([]);
    const beforeFreeze = new Set(pushes.filter((p) => p.at < frozenAt + 100).flatMap((p) => p.mids));
    const twice = mids.filter((m, i) => mids.indexOf(m) !== i);
    expect(twice.filter((m) => !beforeFreeze.has(m))).toEqual([]);
    console.log(
      `leader-freeze: ${pushes.length} push frames; sent twice (in flight at the freeze): [${twice.join(', ')}]`,
    );
  },
);
