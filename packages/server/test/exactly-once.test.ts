import { afterEach, describe, expect, it } from 'vitest';
import type { Mutation } from '@syncline/protocol';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';

let running: RunningServer;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
});

const SCOPE = 'team:once';
const put = (id: string, value: Record<string, number | string>) =>
  ({ scope: SCOPE, collection: 'notes', id, op: 'put', base: 0, value }) as const;

async function connect(opts: { clientId?: string } = {}) {
  const c = await TestClient.connect(running.url, opts);
  clients.push(c);
  return c;
}

async function head(c: TestClient) {
  const res = await c.pull(SCOPE, 0, 1000);
  if (!res.ok) throw new Error(res.error.code);
  return { head: res.head, changes: res.changes };
}

describe('exactly-once by (client id, mid)', () => {
  it('answers a re-pushed batch with duplicates and applies nothing again', async () => {
    running = await startServer();
    const a = await connect();
    const batch = a.mutations(put('n1', { v: 1 }), put('n2', { v: 2 }), put('n3', { v: 3 }));
    const first = await a.push(batch);
    expect(first.ok && first.results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    const second = await a.push(batch);
    expect(second.ok && second.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect((await head(a)).head).toBe(3);
  });

  it('applies each mutation once when the same batch arrives twice at once, even on two sockets', async () => {
    running = await startServer();
    const a = await connect();
    // A second tab of the same client (same id, same user) racing the first.
    const a2 = await connect({ clientId: a.clientId });
    const batch = a.mutations(...Array.from({ length: 20 }, (_, i) => put(`n${i}`, { i })));
    const [r1, r2, r3] = await Promise.all([a.push(batch), a2.push(batch), a.push(batch)]);
    const statuses = [r1, r2, r3].flatMap((r) => (r.ok ? r.results.map((x) => x.status) : ['error']));
    expect(statuses.filter((s) => s === 'applied')).toHaveLength(20);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(40);
    const state = await head(a);
    expect(state.head).toBe(20);
    const history = await a.history({ scope: SCOPE, collection: 'notes', id: 'n7' });
    expect(history.ok && history.entries).toHaveLength(1);
  });

  it('treats an overlapping batch as duplicates up to the last mid and applies the rest', async () => {
    running = await startServer();
    const a = await connect();
    const all = a.mutations(...Array.from({ length: 8 }, (_, i) => put(`n${i}`, { i })));
    await a.push(all.slice(0, 5));
    const res = await a.push(all.slice(2));
    expect(res.ok && res.results.map((r) => `${r.mid}:${r.status}`)).toEqual([
      '3:duplicate',
      '4:duplicate',
      '5:duplicate',
      '6:applied',
      '7:applied',
      '8:applied',
    ]);
  });

  it('refuses a push whose first mid leaves a gap, applying nothing', async () => {
    running = await startServer();
    const a = await connect();
    const ms = a.mutations(
      put('n1', { v: 1 }),
      put('n2', { v: 2 }),
      put('n3', { v: 3 }),
      put('n4', { v: 4 }),
    );
    await a.push(ms.slice(0, 1));
    const gap = await a.push(ms.slice(2));
    expect(gap.ok).toBe(false);
    if (gap.ok) return;
    expect(gap.error).toMatchObject({ code: 'mid_gap', retryable: false, details: { expectedMid: 2 } });
    expect((await head(a)).head).toBe(1);
    const resumed = await a.push(ms.slice(1));
    expect(resumed.ok && resumed.results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
  });

  it('advances the client past a permanently rejected mutation so the queue never blocks', async () => {
    running = await startServer({
      collections: { notes: { validate: (v) => (v.bad === true ? 'bad notes are refused' : undefined) } },
    });
    const a = await connect();
    const [bad, good] = a.mutations(
      { scope: SCOPE, collection: 'notes', id: 'x', op: 'put', base: 0, value: { bad: true } } as never,
      put('y', { v: 1 }),
    ) as [Mutation, Mutation];
    const r1 = await a.push([bad]);
    expect(r1.ok && r1.results[0]).toMatchObject({
      status: 'rejected',
      error: { code: 'validation_failed' },
    });
    const r2 = await a.push([good]);
    expect(r2.ok && r2.results[0]).toMatchObject({ status: 'applied', version: 1 });
    const again = await a.push([bad]);
    expect(again.ok && again.results[0]?.status).toBe('duplicate');
    const state = await head(a);
    expect(state.changes.map((c) => c.id)).toEqual(['y']);
  });

  it("applies a socket's pipelined pushes in arrival order, even when a later one is authorized first", async () => {
    // The first push's scope takes its auth hook 50 ms; the second's answers at once. Run
    // concurrently, the second would reach storage first and be refused as a mid gap.
    running = await startServer({
      auth: {
        authenticate: () => ({ id: 'u1' }),
        authorize: async (_principal, scope) => {
          if (scope === 'team:slow') await new Promise((resolve) => setTimeout(resolve, 50));
          return true;
        },
      },
    });
    const a = await connect();
    const slow = a.mutations(...[1, 2, 3].map((i) => ({ ...put(`s${i}`, { i }), scope: 'team:slow' })));
    const fast = a.mutations(...[4, 5, 6].map((i) => ({ ...put(`f${i}`, { i }), scope: 'team:fast' })));
    const [r1, r2] = await Promise.all([a.push(slow), a.push(fast)]);
    expect(r1.ok && r1.results.map((r) => [r.mid, r.status])).toEqual([
      [1, 'applied'],
      [2, 'applied'],
      [3, 'applied'],
    ]);
    expect(r2.ok && r2.results.map((r) => [r.mid, r.status])).toEqual([
      [4, 'applied'],
      [5, 'applied'],
      [6, 'applied'],
    ]);
  });

  it('does not double-apply when the ack is lost and the client re-sends after reconnecting', async () => {
    running = await startServer();
    const a = await connect();
    const batch = a.mutations(
      { scope: SCOPE, collection: 'counters', id: 'likes', op: 'put', base: 0, value: { n: 0 } } as never,
      { scope: SCOPE, collection: 'counters', id: 'likes', op: 'inc', base: 0, field: 'n', by: 1 } as never,
    );
    const observer = await connect();
    await observer.subscribe(SCOPE);
    // Emit and drop the connection before the ack can arrive; the commit still happens.
    a.socket.emit('push', { mutations: batch }, () => undefined);
    a.close();
    await observer.waitForChange((m) => m.changes.some((c) => c.mid === 2));
    const again = await connect({ clientId: a.clientId });
    const res = await again.push(batch);
    expect(res.ok && res.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    const state = await head(again);
    expect(state.changes.find((c) => c.id === 'likes')?.value).toEqual({ n: 1 });
    // The pull tells the client its mutations up to mid 2 are already reflected in the page.
    const pulled = await again.pull(SCOPE, 0);
    expect(pulled.ok && pulled.lastMid).toBe(2);
  });

  it('stores no client row until the first push, and a retention run never lets a mutation apply twice', async () => {
    running = await startServer({ retention: { maxAgeMs: 1, keepVersions: 1 } });
    const a = await connect();
    // Connecting and asking for state store nothing.
    expect(await running.storage.getClient(a.clientId as never)).toBeUndefined();
    const state = await fetch(`${running.url}/v1/mutations/state?clientId=never-wrote-1`, {
      headers: { authorization: 'Bearer someone' },
    });
    expect(await state.json()).toEqual({ ok: true, clientId: 'never-wrote-1', lastMid: 0 });
    expect(await running.storage.getClient('never-wrote-1' as never)).toBeUndefined();
    // A row left by an older server that bound clients on connect (lastMid 0) is removed.
    await running.storage.bindClient('legacy-client-1' as never, 'dev');

    const batch = a.mutations(
      { scope: SCOPE, collection: 'counters', id: 'likes', op: 'put', base: 0, value: { n: 0 } } as never,
      { scope: SCOPE, collection: 'counters', id: 'likes', op: 'inc', base: 0, field: 'n', by: 1 } as never,
    );
    expect((await a.push(batch)).ok).toBe(true);
    expect(await running.server.prune()).toMatchObject({ clientsRemoved: 1 });
    expect(await running.storage.getClient('legacy-client-1' as never)).toBeUndefined();
    // The pusher's row survives retention: the re-sent batch (a lost ack) is still a duplicate.
    const res = await a.push(batch);
    expect(res.ok && res.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect((await head(a)).changes.find((c) => c.id === 'likes')?.value).toEqual({ n: 1 });
  });

  it('binds a client id to the user of its first push: another user pushing with it is refused', async () => {
    running = await startServer();
    const alice = await TestClient.connect(running.url, { token: 'alice' });
    clients.push(alice);
    const mallory = await TestClient.connect(running.url, { token: 'mallory', clientId: alice.clientId });
    clients.push(mallory);
    expect((await alice.push(alice.mutations(put('n1', { v: 1 })))).ok).toBe(true);
    const refused = await mallory.push(mallory.mutations(put('n1', { v: 666 })));
    expect(refused).toMatchObject({ ok: false, error: { code: 'client_id_mismatch' } });
    expect((await head(alice)).changes.find((c) => c.id === 'n1')?.value).toEqual({ v: 1 });
  });
});
