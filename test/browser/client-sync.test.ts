// The Syncline client in real headless Chromium against a real in-process server: IndexedDB,
// Web Locks leader election between tabs, WebSocket transport across origins (CORS/Origin).
// Each device is a browser context (its own IndexedDB and locks); tabs are pages in one context.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncStatus } from '@syncline/client';
import type { Card, ScopeHash, SyncApp, SyncAppResult } from './fixtures/sync-app.js';
import { screenshot, startBrowserTestServer, type TestContext } from './harness.js';
import { useSyncSuite, waitForOk } from './suite.js';

const APP_ENTRY = fileURLToPath(new URL('./fixtures/sync-app.ts', import.meta.url));
const APP = 'sync-app';
const WAIT_MS = 10_000;
/** Web Locks release on page close and the next tab's takeover must be quick. */
const HANDOVER_MS = 5_000;

const contexts: TestContext[] = [];
/** The Origin header of every connection the sync server accepted. */
const acceptedOrigins = new Set<string | undefined>();

const ready = useSyncSuite({
  tmpPrefix: 'syncline-browser-',
  bundles: { [APP]: APP_ENTRY },
  onServer: (sync) =>
    sync.io.on('connection', (socket) => acceptedOrigins.add(socket.handshake.headers.origin)),
});

beforeEach(() => {
  // Each test asserts its own errors; a failed test's leftovers must not fail the next one.
  ready().browser.errors.splice(0);
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.context.close();
});

/** A new device: a browser context with its own IndexedDB, Web Locks and BroadcastChannel. */
async function newDevice(): Promise<TestContext> {
  const context = await ready().browser.newContext();
  contexts.push(context);
  return context;
}

/** Opens the app in a new tab of `device` and waits until its client has started. */
async function openApp(device: TestContext, query: Readonly<Record<string, string>>): Promise<Page> {
  const page = await device.newPage(ready().pages.pageUrl(APP, query));
  await started(page);
  return page;
}

async function started(page: Page): Promise<SyncAppResult & { ok: true }> {
  return waitForOk<SyncAppResult>(page, 'sync-app failed to start');
}

type AppMethod = {
  [K in keyof SyncApp]: SyncApp[K] extends (...args: never[]) => unknown ? K : never;
}[keyof SyncApp];
type AppFn<K extends AppMethod> = SyncApp[K] extends (...args: infer A) => infer R
  ? { args: A; result: Awaited<R> }
  : never;

/** Calls `window.app[method](...args)` in the page and returns the (JSON-serialized) result. */
async function call<K extends AppMethod>(
  page: Page,
  method: K,
  ...args: AppFn<K>['args']
): Promise<AppFn<K>['result']> {
  const result = await page.evaluate(
    async ([name, params]) => {
      const app = window.app as unknown as Record<string, (...a: unknown[]) => unknown> | undefined;
      if (app === undefined) throw new Error('window.app is not set');
      return app[name]!(...params);
    },
    [method, args as unknown[]] as const,
  );
  return result;
}

type StatusWant = Partial<Pick<SyncStatus, 'online' | 'connected' | 'phase' | 'isLeader' | 'pending'>>;

/** Waits (in the page, on every animation frame) until the status has every field of `want`. */
async function waitStatus(page: Page, want: StatusWant, timeout = WAIT_MS): Promise<SyncStatus> {
  try {
    const handle = await page.waitForFunction(
      (w) => {
        const status = window.app?.status();
        if (status === null || status === undefined) return false;
        const fields = status as unknown as Record<string, unknown>;
        return Object.entries(w).every(([key, value]) => fields[key] === value) ? status : false;
      },
      want,
      { timeout },
    );
    return (await handle.jsonValue()) as SyncStatus;
  } catch (error) {
    const last = await call(page, 'status').catch(() => null);
    throw new Error(
      `status never matched ${JSON.stringify(want)}; last: ${JSON.stringify(last)}\n${String(error)}`,
    );
  }
}

const settled: StatusWant = { phase: 'live', pending: 0, connected: true, isLeader: true };

/**
 * Waits until the page's tab has nothing pending (and, if it leads, is live) and its scope hash
 * equals the server's; returns that hash.
 */
async function converged(page: Page, timeout = WAIT_MS): Promise<ScopeHash> {
  await expect
    .poll(
      () =>
        page.evaluate(async () => {
          const app = window.app;
          const status = app?.status();
          if (app === undefined || status === null || status === undefined) return 'not started';
          if (status.pending !== 0) return `${status.pending} pending`;
          if (status.isLeader && status.phase !== 'live') return `phase ${status.phase}`;
          const [local, server] = await Promise.all([app.localHash(), app.serverHash()]);
          if (local.hash !== server.hash) return `local ${local.count} records, server ${server.count}`;
          return 'converged';
        }),
      { timeout, interval: 50 },
    )
    .toBe('converged');
  return call(page, 'localHash');
}

/** `expect.poll` with this file's wait budget: retries `read` until the matcher passes. */
function eventually<T>(read: () => Promise<T>) {
  return expect.poll(read, { timeout: WAIT_MS, interval: 50 });
}

function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

describe('Syncline client in real Chromium', { timeout: 60_000 }, () => {
  it('two devices write offline, reconnect and converge with the server', async () => {
    const { browser, pages } = ready();
    const board = unique('converge');
    const deviceA = await newDevice();
    const deviceB = await newDevice();
    const a = await openApp(deviceA, { db: unique('device-a'), board });
    const b = await openApp(deviceB, { db: unique('device-b'), board });
    await waitStatus(a, settled);
    await waitStatus(b, settled);
    // The pages' origin differs from the server's (another port): allowed through `cors`.
    expect(acceptedOrigins).toContain(pages.url);
    expect(new URL(pages.url).port).not.toBe(new URL(syncServerUrl()).port);
    expect(await call(a, 'status')).toMatchObject({ initialSync: { done: true } });

    // A shared card, seen by both before they go offline.
    const c1: Card = { id: 'c1', board, title: 'first', status: 'todo', likes: 0 };
    await call(a, 'put', c1);
    await converged(a);
    await eventually(() => call(b, 'get', 'c1')).toEqual(c1);
    await converged(b);

    await call(a, 'setOnline', false);
    await call(b, 'setOnline', false);
    await waitStatus(a, { phase: 'offline', connected: false, online: false });
    await waitStatus(b, { phase: 'offline', connected: false, online: false });

    expect(await call(a, 'update', 'c1', { title: 'from a' })).toBe(1);
    expect(await call(b, 'update', 'c1', { status: 'done' })).toBe(1);
    await call(a, 'inc', 'c1');
    await call(b, 'inc', 'c1');
    const cardA: Card = { id: 'a1', board, title: 'made on a offline' };
    const cardB: Card = { id: 'b1', board, title: 'made on b offline' };
    await call(a, 'put', cardA);
    await call(b, 'put', cardB);

    // Offline really is offline: local views differ, nothing reached the server.
    expect(await call(a, 'get', 'c1')).toEqual({ ...c1, title: 'from a', likes: 1 });
    expect(await call(b, 'get', 'c1')).toEqual({ ...c1, status: 'done', likes: 1 });
    expect(await call(a, 'get', 'b1')).toBeNull();
    expect(await call(b, 'get', 'a1')).toBeNull();
    expect(await waitStatus(a, { pending: 3 })).toMatchObject({ phase: 'offline' });
    expect(await waitStatus(b, { pending: 3 })).toMatchObject({ phase: 'offline' });
    const serverWhileOffline = await call(a, 'serverHash');
    expect(serverWhileOffline.count).toBe(1);
    expect((await call(a, 'localHash')).hash).not.toBe(serverWhileOffline.hash);
    await screenshot(a, 'client-sync-converge-a-offline');

    await call(a, 'setOnline', true);
    await call(b, 'setOnline', true);
    await waitStatus(a, settled);
    await waitStatus(b, settled);
    const hashA = await converged(a);
    const hashB = await converged(b);
    // a may have converged before b's changes arrived: check again now that b is done.
    expect(await converged(a)).toEqual(hashB);
    expect(hashA.count).toBe(3);
    expect(hashB).toEqual(await call(b, 'serverHash'));

    const merged: Card = { ...c1, title: 'from a', status: 'done', likes: 2 };
    const expected = [cardA, cardB, merged];
    expect(await call(a, 'cards')).toEqual(expected);
    expect(await call(b, 'cards')).toEqual(expected);
    expect(await call(a, 'status')).toMatchObject({ conflicts: 0, rejections: 0, lastError: null });
    expect(await call(b, 'status')).toMatchObject({ conflicts: 0, rejections: 0, lastError: null });

    await screenshot(a, 'client-sync-converge-a');
    await screenshot(b, 'client-sync-converge-b');
    expect(browser.errors).toEqual([]);
  });

  it("sends a write's push before the write's own promise resolves (no task in between)", async () => {
    const board = unique('push-first');
    const a = await openApp(await newDevice(), { db: unique('device-a'), board });
    await waitStatus(a, settled);
    // One settled push on this connection first: the next batch then starts where it ended.
    await call(a, 'put', { id: 'p', board, title: 'first' });
    await waitStatus(a, { pending: 0, phase: 'live' });
    // Sent frames and the write's resolution, in the page, for three writes in turn.
    const order = await a.evaluate(async (b) => {
      const log: string[] = [];
      const send = Reflect.get<WebSocket, 'send'>(WebSocket.prototype, 'send');
      WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
        if (typeof data === 'string' && data.includes('"push"')) log.push('push sent');
        send.call(this, data);
      };
      try {
        for (let i = 0; i < 3; i++) {
          await window.app!.put({ id: `p${i}`, board: b, title: `write ${i}` });
          log.push('put resolved');
          // Settled and idle again before the next write, so each goes out from memory.
          const idle = () => {
            const st = window.app!.status();
            return st?.pending === 0 && st.phase === 'live';
          };
          for (let t = 0; t < 200 && !idle(); t++) await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        WebSocket.prototype.send = send;
      }
      return log;
    }, board);
    expect(order).toEqual([
      'push sent',
      'put resolved',
      'push sent',
      'put resolved',
      'push sent',
      'put resolved',
    ]);
    await converged(a);
  });

  it('commits local writes and push results strictly, and server state (pulls, live changes) relaxed', async () => {
    const board = unique('durability');
    const deviceA = await newDevice();
    const deviceB = await newDevice();
    // Before any page script: record each read-write IndexedDB transaction's durability and
    // which Syncline stores it added to, put into or deleted from.
    await deviceA.context.addInitScript(() => {
      type TxLog = { durability: string; writes: string[] };
      const log: TxLog[] = [];
      const byTx = new WeakMap<IDBTransaction, TxLog>();
      (window as unknown as { __txLog: TxLog[] }).__txLog = log;
      // Wrapped, not detached: the originals are called with the right `this` below.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      const transaction = IDBDatabase.prototype.transaction;
      IDBDatabase.prototype.transaction = function (
        this: IDBDatabase,
        ...args: Parameters<IDBDatabase['transaction']>
      ) {
        const tx = transaction.apply(this, args);
        if (tx.mode === 'readwrite') {
          const entry = { durability: tx.durability, writes: [] };
          log.push(entry);
          byTx.set(tx, entry);
        }
        return tx;
      };
      for (const op of ['add', 'put', 'delete'] as const) {
        // eslint-disable-next-line @typescript-eslint/unbound-method
        const original = IDBObjectStore.prototype[op] as (...a: unknown[]) => IDBRequest;
        (IDBObjectStore.prototype as unknown as Record<string, unknown>)[op] = function (
          this: IDBObjectStore,
          ...a: unknown[]
        ) {
          byTx.get(this.transaction)?.writes.push(`${op} ${this.name}`);
          return original.apply(this, a);
        };
      }
    });
    const a = await openApp(deviceA, { db: unique('device-a'), board });
    const b = await openApp(deviceB, { db: unique('device-b'), board });
    await waitStatus(a, settled);
    await waitStatus(b, settled);
    await call(a, 'put', { id: 'mine', board, title: 'written on a' });
    await converged(a);
    await call(b, 'put', { id: 'theirs', board, title: 'written on b' });
    await converged(b);
    await eventually(() => call(a, 'get', 'theirs')).toMatchObject({ title: 'written on b' });

    const log = await a.evaluate(
      () => (window as unknown as { __txLog: { durability: string; writes: string[] }[] }).__txLog,
    );
    const with_ = (w: string) => log.filter((t) => t.writes.includes(w));
    const queued = with_('add _syncline_outbox'); // local writes
    const settledPushes = with_('delete _syncline_outbox'); // push results
    const serverState = log.filter(
      (t) =>
        t.writes.includes('put _syncline_scopes') && !t.writes.some((w) => w.endsWith(' _syncline_outbox')),
    );
    expect(queued.length).toBeGreaterThan(0);
    expect(settledPushes.length).toBeGreaterThan(0);
    expect(serverState.length).toBeGreaterThan(0);
    expect(new Set(queued.map((t) => t.durability))).toEqual(new Set(['strict']));
    expect(new Set(settledPushes.map((t) => t.durability))).toEqual(new Set(['strict']));
    expect(new Set(serverState.map((t) => t.durability))).toEqual(new Set(['relaxed']));
  });

  it('tabs of one device share one leader; closing it hands sync over to another tab', async () => {
    const { browser } = ready();
    const board = unique('tabs');
    const dbName = unique('tabs-device');
    const device = await newDevice();
    const tab1 = await openApp(device, { db: dbName, board });
    const tab2 = await openApp(device, { db: dbName, board });
    const observer = await openApp(await newDevice(), { db: unique('observer'), board });
    await waitStatus(observer, settled);

    // Exactly one tab leads (Web Locks); the other writes to the shared outbox only.
    const leaders = async (): Promise<number> =>
      [await call(tab1, 'status'), await call(tab2, 'status')].filter((s) => s?.isLeader === true).length;
    await eventually(leaders).toBe(1);
    const tab1Leads = (await call(tab1, 'status'))?.isLeader === true;
    const [leader, follower] = tab1Leads ? [tab1, tab2] : [tab2, tab1];
    await waitStatus(leader, settled);
    expect(await call(follower, 'status')).toMatchObject({
      isLeader: false,
      connected: false,
      phase: 'stopped',
      pending: 0,
    });
    // Both tabs are one device: one database, one client id.
    expect((await started(follower)).clientId).toBe((await started(leader)).clientId);

    // The follower's write goes out through the leader's connection.
    const fromFollower: Card = { id: 'f1', board, title: 'written in the follower tab' };
    await call(follower, 'put', fromFollower);
    await eventually(() => call(observer, 'get', 'f1')).toEqual(fromFollower);
    await eventually(() => call(leader, 'get', 'f1')).toEqual(fromFollower);
    await waitStatus(follower, { pending: 0, isLeader: false });
    await converged(follower);
    await screenshot(follower, 'client-sync-tabs-follower');

    // Close the leader tab: the browser releases its lock and the other tab takes over.
    const closedAt = Date.now();
    await leader.close();
    await waitStatus(follower, { isLeader: true }, HANDOVER_MS);
    await waitStatus(follower, settled, HANDOVER_MS);
    const handoverMs = Date.now() - closedAt;
    expect(handoverMs).toBeLessThan(HANDOVER_MS);

    const fromNewLeader: Card = { id: 'f2', board, title: 'written after the hand-over', likes: 0 };
    await call(follower, 'put', fromNewLeader);
    await call(follower, 'inc', 'f1', 5);
    await eventually(() => call(observer, 'get', 'f2')).toEqual(fromNewLeader);
    await eventually(() => call(observer, 'get', 'f1')).toEqual({ ...fromFollower, likes: 5 });
    const hash = await converged(follower);
    expect(await converged(observer)).toEqual(hash);
    expect(hash.count).toBe(2);

    await screenshot(follower, 'client-sync-tabs-new-leader');
    await screenshot(observer, 'client-sync-tabs-observer');
    expect(browser.errors).toEqual([]);
  });

  it('keeps offline writes across a reload and syncs them afterwards', async () => {
    const { browser, pages } = ready();
    const board = unique('reload');
    const query = { db: unique('reload-device'), board };
    const page = await openApp(await newDevice(), query);
    await waitStatus(page, settled);
    const r0: Card = { id: 'r0', board, title: 'written online' };
    await call(page, 'put', r0);
    await converged(page);

    await call(page, 'setOnline', false);
    await waitStatus(page, { phase: 'offline', connected: false });
    const r1: Card = { id: 'r1', board, title: 'written offline' };
    await call(page, 'put', r1);
    expect(await call(page, 'update', 'r0', { notes: 'edited offline' })).toBe(1);
    await waitStatus(page, { pending: 2 });
    expect((await call(page, 'serverHash')).count).toBe(1);

    // Reload, still offline: the writes and their outbox entries are in IndexedDB.
    await page.goto(pages.pageUrl(APP, { ...query, offline: '1' }));
    await started(page);
    expect(await waitStatus(page, { phase: 'offline', pending: 2 })).toMatchObject({ isLeader: true });
    expect(await call(page, 'cards')).toEqual([{ ...r0, notes: 'edited offline' }, r1]);
    const stillOld = await call(page, 'serverHash');
    expect(stillOld.count).toBe(1);

    await call(page, 'setOnline', true);
    await waitStatus(page, settled);
    const hash = await converged(page);
    expect(hash.count).toBe(2);
    expect(await call(page, 'serverHash')).toEqual(hash);
    await screenshot(page, 'client-sync-reload-after');

    // Loaded online from the start (no `offline`), it finds nothing left to push and stays equal.
    await page.goto(pages.pageUrl(APP, query));
    await started(page);
    await waitStatus(page, settled);
    expect(await converged(page)).toEqual(hash);
    expect(await call(page, 'cards')).toEqual([{ ...r0, notes: 'edited offline' }, r1]);
    expect(browser.errors).toEqual([]);
  });

  it('refuses a page from an origin the server does not allow', async () => {
    const { browser } = ready();
    // Same bundle, same sync server, but served from another port: an origin not in `cors`.
    const otherOrigin = await startBrowserTestServer({ syncServerUrl: syncServerUrl() });
    try {
      await otherOrigin.addBundle(APP, APP_ENTRY);
      const board = unique('cors');
      const page = await (
        await newDevice()
      ).newPage(otherOrigin.pageUrl(APP, { db: unique('cors-device'), board }));
      await started(page);
      const refused = await page.waitForFunction(
        () => {
          const status = window.app?.status();
          return status?.phase === 'backoff' && status.lastError !== null ? status : false;
        },
        undefined,
        { timeout: WAIT_MS },
      );
      const status = (await refused.jsonValue()) as SyncStatus;
      // The server accepts the upgrade and refuses the handshake, so the client learns why.
      expect(status).toMatchObject({
        connected: false,
        isLeader: true,
        lastError: { code: 'origin_not_allowed', retryable: false },
      });
      expect(status.lastError?.message).toContain(otherOrigin.url.replace(/\/$/, ''));
      expect(acceptedOrigins).not.toContain(otherOrigin.url);
      expect(acceptedOrigins).toContain(ready().pages.url);
      await screenshot(page, 'client-sync-cors-refused');
      await page.close();

      // Any console noise Chromium makes about the refused socket is about that socket only.
      const socketUrl = `${syncServerUrl().replace('http:', 'ws:')}/socket.io/`;
      for (const error of browser.errors.splice(0)) expect(error).toContain(socketUrl);
    } finally {
      await otherOrigin.close();
    }
    expect(browser.errors).toEqual([]);
  });
});

/** The in-process sync server's URL. */
function syncServerUrl(): string {
  const { sync } = ready();
  const address = sync.httpServer.address();
  if (address === null || typeof address === 'string') throw new Error('sync server is not listening');
  return `http://127.0.0.1:${address.port}`;
}
