import { afterEach, describe, expect, it } from 'vitest';
import type { AuthHooks } from '@syncline/server';
// helpers.js installs fake-indexeddb: it must load before Dexie (via src) does.
import { device, SCOPE, settled, until, type Card, type Device } from '@syncline/test-support/devices';
import { startTcpProxy, type TcpProxy } from '@syncline/test-support';
import {
  combineNetworks,
  ManualNetwork,
  workOfflineSwitch,
  type SyncErrorEvent,
  type SyncStatus,
} from '@syncline/client';
import { sameData } from '../../../packages/client/src/client-observables.js';
import { HEARTBEAT } from '../../../packages/server/src/create-sync-server.js';
import { convergeAll, next, scenario } from '../helpers/scenario.js';

const s = scenario();
const extra: Device[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  for (const d of extra.splice(0)) await d.sync.close();
  for (const p of proxies.splice(0)) await p.close();
});

const C1: Card = { id: 'c1', board: '1', title: 'one' };

/** Refuses the token `intruder`, and scope `secret` to everyone. */
const guarded: AuthHooks = {
  authenticate: (h) => (h.token === 'intruder' ? null : { id: h.token ?? 'dev' }),
  authorize: (_p, scope) => scope !== 'secret',
};

describe('errors$', () => {
  it('emits each sync error with its code, message and whether it is retryable', async () => {
    const server = await s.server({ auth: guarded });
    const refused = device(server.url, { client: { token: 'intruder' } });
    extra.push(refused);
    const errors: SyncErrorEvent[] = [];
    refused.sync.errors$.subscribe((e) => errors.push(e));
    await refused.sync.start();
    await until(refused.sync, () => errors.length >= 2);
    expect(errors[0]).toMatchObject({ code: 'unauthenticated', retryable: false });
    expect(typeof errors[0]!.message).toBe('string');
    expect(typeof errors[0]!.at).toBe('number');

    const partly = await s.device({ client: { scopes: [SCOPE, 'secret'] } });
    const seen = next(partly.sync.errors$, (e) => e.code === 'forbidden');
    await partly.sync.syncNow({ timeoutMs: 5_000 });
    expect(await seen).toMatchObject({ code: 'forbidden', retryable: false });
    // The refused scope does not stop the others.
    await partly.db.cards.put(C1);
    expect((await partly.sync.whenSynced()).rejected).toEqual([]);
  });
});

describe('status$', () => {
  it('emits only changed values', async () => {
    await s.server();
    const a = await s.device();
    const b = await s.device();
    const seen: SyncStatus[] = [];
    const sub = a.sync.status$.subscribe((st) => seen.push(st));
    a.network.set(false);
    for (let i = 0; i < 5; i++) await a.db.cards.put({ ...C1, title: `v${i}` });
    await until(a.sync, (st) => st.pending === 5);
    a.network.set(true);
    await b.db.cards.put({ id: 'c2', board: '1', title: 'from b' });
    await convergeAll(a, b);
    sub.unsubscribe();
    expect(seen.length).toBeGreaterThan(3);
    const repeats = seen.filter((st, i) => i > 0 && sameData(st, seen[i - 1]));
    expect(repeats).toEqual([]);
  });

  it('reports initial-sync progress in versions with a fraction', async () => {
    await s.server();
    const a = await s.device();
    await a.db.cards.bulkPut(
      Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, board: '1', title: `${i}` })),
    );
    await a.sync.whenSynced();
    const b = await s.device({ client: { pullPageSize: 10 } });
    const fractions: number[] = [];
    const sub = b.sync.status$.subscribe((st) => fractions.push(st.initialSync.fraction));
    const done = await until(b.sync, (st) => st.initialSync.done);
    sub.unsubscribe();
    expect(done.initialSync).toMatchObject({ pulled: 30, total: 30, fraction: 1 });
    expect(done.initialSync.scopes[SCOPE]).toMatchObject({ pulled: 30, total: 30, head: 30, done: true });
    // Page by page: a third, two thirds, all.
    expect(fractions.filter((f) => f > 0 && f < 1)).toEqual(expect.arrayContaining([1 / 3, 2 / 3]));
  });
});

describe('records$, scopes$ and outbox$', () => {
  it('show versions, pending state, cursor, head and hash without internal table names', async () => {
    await s.server();
    const a = await s.device();
    await a.db.cards.put(C1);
    await until(a.sync, settled);
    expect(await next(a.sync.records$('cards'), (l) => l.length === 1)).toEqual([
      { table: 'cards', id: 'c1', scope: SCOPE, version: 1, pending: 0 },
    ]);
    a.network.set(false);
    await a.db.cards.update('c1', { title: 'edited' });
    expect(await next(a.sync.records$('cards'), (l) => l[0]?.pending === 1)).toEqual([
      { table: 'cards', id: 'c1', scope: SCOPE, version: 1, pending: 1 },
    ]);
    expect((await next(a.sync.outbox$, (l) => l.length === 1)).map((e) => e.mutation.op)).toEqual(['patch']);
    a.network.set(true);
    await until(a.sync, settled);
    const scopes = await next(a.sync.scopes$, (l) => l[0]?.cursor === 2 && l[0].head === 2);
    const server = await a.sync.serverHash(SCOPE);
    expect(scopes).toEqual([
      { scope: SCOPE, subscribed: true, cursor: 2, head: 2, synced: true, hash: server.hash, count: 1 },
    ]);
    expect(await next(a.sync.records$('cards'), (l) => l[0]?.version === 2)).toEqual([
      { table: 'cards', id: 'c1', scope: SCOPE, version: 2, pending: 0 },
    ]);
    expect(await next(a.sync.records$('other'), () => true)).toEqual([]);
  });
});

describe('live queries', () => {
  it("queue a write the app's subscriber makes as a live change shows, like any write", async () => {
    await s.server();
    const a = await s.device();
    const b = await s.device();
    // When B's card shows on A, A's subscriber answers at once, in the same callback.
    const sub = a.sync
      .liveQuery(() => a.db.cards.get('ask'))
      .subscribe((card) => {
        if (card?.title === 'ping') void a.db.cards.put({ id: 'answer', board: '1', title: 'pong' });
      });
    try {
      await b.db.cards.put({ id: 'ask', board: '1', title: 'ping' });
      const answer = await next(
        b.sync.liveQuery(() => b.db.cards.get('answer')),
        (c) => c !== undefined,
      );
      expect(answer).toEqual({ id: 'answer', board: '1', title: 'pong' });
      await until(a.sync, (st) => settled(st) && st.pending === 0);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe('network status', () => {
  it('combineNetworks and workOfflineSwitch are offline when any part is', () => {
    const platform = new ManualNetwork(true);
    const app = workOfflineSwitch(true, platform);
    let calls = 0;
    const off = app.subscribe(() => calls++);
    expect(app.isOnline()).toBe(true);
    platform.set(false);
    expect(app.isOnline()).toBe(false);
    app.set(false);
    platform.set(true);
    expect(app.isOnline()).toBe(false);
    app.set(true);
    expect(app.isOnline()).toBe(true);
    expect(calls).toBe(4);
    off();
    platform.set(false);
    expect(calls).toBe(4);
    const both = combineNetworks(new ManualNetwork(true), new ManualNetwork(false));
    expect(both.isOnline()).toBe(false);
  });

  it(`notices a link that died silently within ${HEARTBEAT.intervalMs + HEARTBEAT.timeoutMs} ms, well inside 5 s (heartbeat)`, async () => {
    const server = await s.server();
    const proxy = await startTcpProxy(server.url);
    proxies.push(proxy);
    const a = device(proxy.url);
    extra.push(a);
    await a.sync.start();
    await until(a.sync, (st) => st.phase === 'live' && st.connected);
    const cut = Date.now();
    proxy.blackhole();
    const down = await until(a.sync, (st) => !st.connected && st.phase !== 'live', 10_000);
    const ms = Date.now() - cut;
    expect(['connecting', 'backoff']).toContain(down.phase);
    expect(ms).toBeLessThan(5_000);
    console.log(`heartbeat: a silent link noticed after ${ms} ms`);
    // And back once the link works again.
    proxy.heal();
    await until(a.sync, (st) => st.phase === 'live' && st.connected, 10_000);
  });
});
