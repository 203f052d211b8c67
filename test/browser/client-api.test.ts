// The client's awaiting, reset, observable and network APIs in real headless Chromium (real
// IndexedDB, Web Locks, WebSocket) against a real in-process server.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncStatus } from '@syncline/client';
import { startTcpProxy, type TcpProxy } from '@syncline/test-support';
import type { SyncApp, SyncAppResult } from './fixtures/sync-app.js';
import type { TestContext } from './harness.js';
import { useSyncSuite, waitForOk } from './suite.js';

const APP_ENTRY = fileURLToPath(new URL('./fixtures/sync-app.ts', import.meta.url));
const APP = 'sync-app';
const WAIT_MS = 10_000;

const contexts: TestContext[] = [];
const proxies: TcpProxy[] = [];

const ready = useSyncSuite({
  tmpPrefix: 'syncline-browser-api-',
  bundles: { [APP]: APP_ENTRY },
  server: () => ({
    // Development-like, except that scope `board:secret` is refused (for errors$).
    auth: {
      authenticate: (h) => ({ id: h.token ?? 'dev' }),
      authorize: (_p, scope) => scope !== 'board:secret',
    },
  }),
});

beforeEach(() => {
  ready().browser.errors.splice(0);
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.context.close();
  for (const p of proxies.splice(0)) await p.close();
});

async function newDevice(): Promise<TestContext> {
  const context = await ready().browser.newContext();
  contexts.push(context);
  return context;
}

async function openApp(device: TestContext, query: Readonly<Record<string, string>>): Promise<Page> {
  const page = await device.newPage(ready().pages.pageUrl(APP, query));
  await waitForOk<SyncAppResult>(page, 'sync-app failed to start');
  return page;
}

type AppMethod = {
  [K in keyof SyncApp]: SyncApp[K] extends (...args: never[]) => unknown ? K : never;
}[keyof SyncApp];
type AppFn<K extends AppMethod> = SyncApp[K] extends (...args: infer A) => infer R
  ? { args: A; result: Awaited<R> }
  : never;

async function call<K extends AppMethod>(
  page: Page,
  method: K,
  ...args: AppFn<K>['args']
): Promise<AppFn<K>['result']> {
  return page.evaluate(
    async ([name, params]) => {
      const app = window.app as unknown as Record<string, (...a: unknown[]) => unknown> | undefined;
      if (app === undefined) throw new Error('window.app is not set');
      return app[name]!(...params);
    },
    [method, args as unknown[]] as const,
  );
}

/** Waits (in the page) until the status satisfies every field of `want`; returns it. */
async function waitStatus(page: Page, want: Partial<SyncStatus>, timeout = WAIT_MS): Promise<SyncStatus> {
  const handle = await page.waitForFunction(
    (w) => {
      const status = window.app?.status();
      if (!status) return false;
      const fields = status as unknown as Record<string, unknown>;
      return Object.entries(w).every(([k, v]) => fields[k] === v) ? status : false;
    },
    want,
    { timeout, polling: 20 },
  );
  return (await handle.jsonValue()) as SyncStatus;
}

const live = { phase: 'live', connected: true, isLeader: true } as const;
const unique = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
const card = (id: string, board: string, title: string) => ({ id, board, title });

describe('client API in real Chromium', { timeout: 60_000 }, () => {
  it('whenSynced and whenAcknowledged wait for the server, also in a follower tab', async () => {
    const device = await newDevice();
    const db = unique('await');
    const board = unique('b');
    const leader = await openApp(device, { db, board, offline: '1' });
    await waitStatus(leader, { isLeader: true, phase: 'offline' });
    const follower = await openApp(device, { db, board });
    await waitStatus(follower, { isLeader: false });
    await call(follower, 'put', card('c1', board, 'from the follower'));
    await call(leader, 'put', card('c2', board, 'from the leader'));
    expect(await call(follower, 'whenSynced', 200)).toEqual({ error: 'timeout' });
    const waiting = call(follower, 'whenSynced', WAIT_MS);
    await call(leader, 'setOnline', true);
    expect(await waiting).toMatchObject({ upToMid: 2, answered: 2, rejected: [], conflicts: [] });
    expect(await call(leader, 'whenLastAcknowledged', WAIT_MS)).toEqual({ status: 'applied' });
    expect(await call(leader, 'serverHash')).toMatchObject({ count: 2 });
    expect(ready().browser.errors).toEqual([]);
  });

  it('whenInitialSynced, syncNow and reset with a pending edit', async () => {
    const board = unique('reset');
    const writer = await openApp(await newDevice(), { db: unique('w'), board });
    await waitStatus(writer, live);
    for (const id of ['c1', 'c2', 'c3']) await call(writer, 'put', card(id, board, id));
    await call(writer, 'whenSynced', WAIT_MS);

    const page = await openApp(await newDevice(), { db: unique('r'), board });
    expect(await call(page, 'whenInitialSynced', WAIT_MS)).toBe('done');
    expect((await call(page, 'cards')).map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    expect(await call(page, 'syncNow', WAIT_MS)).toBe('done');

    await call(page, 'setOnline', false);
    await call(page, 'update', 'c1', { title: 'pending edit' });
    expect(await call(page, 'syncNow', WAIT_MS)).toEqual({ error: 'offline' });
    await call(page, 'setOnline', true);
    expect(await call(page, 'reset')).toBe('done');
    expect(await call(page, 'whenInitialSynced', WAIT_MS)).toBe('done');
    await call(page, 'whenSynced', WAIT_MS);
    await waitStatus(page, { ...live, pending: 0 });
    expect((await call(page, 'cards')).map((c) => [c.id, c.title])).toEqual([
      ['c1', 'pending edit'],
      ['c2', 'c2'],
      ['c3', 'c3'],
    ]);
    expect(await call(writer, 'syncNow', WAIT_MS)).toBe('done');
    expect(await call(writer, 'get', 'c1')).toMatchObject({ title: 'pending edit' });
    const scopes = await call(page, 'scopes');
    const server = await call(page, 'serverHash');
    expect(scopes).toEqual([
      expect.objectContaining({
        scope: `board:${board}`,
        subscribed: true,
        synced: true,
        hash: server.hash,
        count: 3,
      }),
    ]);
    expect((await call(page, 'records')).map((r) => [r.id, r.pending])).toEqual([
      ['c1', 0],
      ['c2', 0],
      ['c3', 0],
    ]);
    expect(ready().browser.errors).toEqual([]);
  });

  it('setScopes evicts a removed scope; a row with a pending edit stays until it is answered', async () => {
    const keep = unique('keep');
    const drop = unique('drop');
    const page = await openApp(await newDevice(), { db: unique('evict'), board: keep });
    await waitStatus(page, live);
    await call(page, 'setScopes', [`board:${keep}`, `board:${drop}`]);
    for (const [id, board] of [
      ['k1', keep],
      ['d1', drop],
      ['d2', drop],
    ] as const)
      await call(page, 'put', card(id, board, id));
    await call(page, 'whenSynced', WAIT_MS);
    const ids = async () => (await call(page, 'cards')).map((c) => c.id);
    expect(await ids()).toEqual(['d1', 'd2', 'k1']);

    await call(page, 'setOnline', false);
    await call(page, 'update', 'd2', { title: 'pending edit' });
    await call(page, 'setScopes', [`board:${keep}`]);
    // d1 goes at once; d2 waits for the server's answer to its edit.
    await expect.poll(ids, { timeout: WAIT_MS }).toEqual(['d2', 'k1']);
    await call(page, 'setOnline', true);
    await call(page, 'whenSynced', WAIT_MS);
    await expect.poll(ids, { timeout: WAIT_MS }).toEqual(['k1']);
    expect((await call(page, 'records')).map((r) => r.id)).toEqual(['k1']);
    expect((await call(page, 'scopes')).map((s) => s.scope)).toEqual([`board:${keep}`]);
    // The edit reached the server before its row left this device.
    const other = await openApp(await newDevice(), { db: unique('other'), board: drop });
    expect(await call(other, 'whenInitialSynced', WAIT_MS)).toBe('done');
    expect(await call(other, 'get', 'd2')).toMatchObject({ title: 'pending edit' });
    expect(ready().browser.errors).toEqual([]);
  });

  it('errors$ reports a refused scope with its code', async () => {
    const page = await openApp(await newDevice(), { db: unique('err'), board: 'secret' });
    await expect
      .poll(async () => (await call(page, 'errors')).map((e) => [e.code, e.retryable]), { timeout: WAIT_MS })
      .toContainEqual(['forbidden', false]);
  });
});

describe('real network status in Chromium', { timeout: 60_000 }, () => {
  it('follows the browser going offline (playwright setOffline) within 5 s, combined with the app switch', async () => {
    const device = await newDevice();
    const page = await openApp(device, { db: unique('net'), board: unique('n'), net: 'real' });
    await waitStatus(page, live);
    const cut = Date.now();
    await device.context.setOffline(true);
    await waitStatus(page, { online: false, phase: 'offline', connected: false }, 5_000);
    const ms = Date.now() - cut;
    console.log(`offline emulation: status offline after ${ms} ms`);
    expect(ms).toBeLessThan(5_000);
    // Writes queue while offline and sync when the network is back.
    await call(page, 'put', card('c1', 'x', 'written offline'));
    await device.context.setOffline(false);
    await waitStatus(page, { ...live, online: true, pending: 0 });
    // The app's "work offline" switch: offline if either says so.
    await call(page, 'setOnline', false);
    await waitStatus(page, { online: false, phase: 'offline' });
    await device.context.setOffline(true);
    await call(page, 'setOnline', true);
    await waitStatus(page, { online: false, phase: 'offline' });
    await device.context.setOffline(false);
    await waitStatus(page, { ...live, online: true });
    expect(ready().browser.errors).toEqual([]);
  });

  it('notices a silent dead link within 5 s through the heartbeat (a TCP proxy stops forwarding)', async () => {
    // Chromium's offline emulation closes a WebSocket to 127.0.0.1 at once (checked: connected
    // false within ~0.2 s even with a ManualNetwork that ignores navigator.onLine), so it cannot
    // stand for a link that dies silently: a proxy that swallows every byte does.
    const proxy = await startTcpProxy(ready().syncUrl);
    proxies.push(proxy);
    const page = await openApp(await newDevice(), {
      db: unique('dead'),
      board: unique('d'),
      net: 'real',
      sync: proxy.url,
    });
    await waitStatus(page, live);
    const cut = Date.now();
    proxy.blackhole();
    await page.waitForFunction(() => window.app?.status()?.connected === false, undefined, {
      timeout: 8_000,
      polling: 20,
    });
    const ms = Date.now() - cut;
    console.log(`heartbeat in Chromium: a silent link noticed after ${ms} ms`);
    expect(ms).toBeLessThan(5_000);
    expect((await call(page, 'status'))?.phase).not.toBe('live');
    proxy.heal();
    await waitStatus(page, live);
  });
});
