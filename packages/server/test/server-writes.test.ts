import { afterEach, describe, expect, it } from 'vitest';
import type { Mutation, ServerWriteResponse } from '@syncline/protocol';
import { serverClientId } from '../src/sync/server-writes.js';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';
import { postJson } from './helpers/http.js';
import { tokenAuth } from './helpers/token-auth.js';

let running: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  running = undefined;
});

async function setup() {
  running = await startServer({
    auth: tokenAuth,
    collections: {
      cards: { strategy: 'merge' },
      contracts: { strategy: 'manual' },
      notes: { validate: (v) => (typeof v['title'] === 'string' ? undefined : 'title is required') },
    },
  });
  const alice = await TestClient.connect(running.url, { token: 'alice' });
  clients.push(alice);
  return { url: running.url, server: running.server, alice };
}

const BACKEND = { id: 'backend', claims: { backend: true } } as const;

/** Mutations with dense mids from `first`. */
function numbered(first: number, ...ms: Omit<Mutation, 'mid'>[]): Mutation[] {
  return ms.map((m, i) => ({ ...m, mid: first + i }) as Mutation);
}

const put = (scope: string, id: string, value: Record<string, unknown>, collection = 'cards') =>
  ({ scope, collection, id, op: 'put', base: 0, value }) as unknown as Omit<Mutation, 'mid'>;

const write = (url: string, body: unknown, token = 'backend') =>
  postJson(`${url}/v1/mutations`, body, { token }) as Promise<{ status: number; body: ServerWriteResponse }>;

describe('server-side writes over HTTP', () => {
  it('reach a connected client in real time, attributed to the backend client id', async () => {
    const { url, alice } = await setup();
    await alice.subscribe('team:a');
    const clientId = 'backend-job-1';
    const res = await write(url, {
      clientId,
      mutations: numbered(1, put('team:a', 'c1', { title: 'from the backend' })),
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, clientId, results: [{ mid: 1, status: 'applied', version: 1 }] });
    const msg = await alice.waitForChange((m) => m.scope === 'team:a');
    expect(msg.changes).toEqual([
      { collection: 'cards', id: 'c1', version: 1, value: { title: 'from the backend' }, clientId, mid: 1 },
    ]);
    // History records the backend as the writer.
    const h = await alice.history({ scope: 'team:a', collection: 'cards', id: 'c1' });
    expect(h.ok && h.entries[0]).toMatchObject({ userId: 'backend', clientId, mid: 1, op: 'put' });
  });

  it('is exactly once: a re-sent batch is answered duplicate, a gap is 409 with the expected mid', async () => {
    const { url } = await setup();
    const batch = numbered(1, put('team:a', 'c1', { n: 1 }), put('team:a', 'c2', { n: 2 }));
    expect((await write(url, { mutations: batch })).body).toMatchObject({
      ok: true,
      clientId: serverClientId('backend'),
      results: [{ status: 'applied' }, { status: 'applied' }],
    });
    // The answer was "lost": the backend retries the same batch.
    const again = await write(url, { mutations: batch });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      results: [
        { mid: 1, status: 'duplicate' },
        { mid: 2, status: 'duplicate' },
      ],
    });
    const gap = await write(url, { mutations: numbered(5, put('team:a', 'c3', { n: 3 })) });
    expect(gap.status).toBe(409);
    expect(gap.body).toMatchObject({ ok: false, error: { code: 'mid_gap', details: { expectedMid: 3 } } });
    // A backend that lost its counter asks where to resume.
    const state = await fetch(`${url}/v1/mutations/state`, { headers: { authorization: 'Bearer backend' } });
    expect(await state.json()).toEqual({ ok: true, clientId: serverClientId('backend'), lastMid: 2 });
    expect((await running!.storage.pull('team:a' as never, 0 as never, 10)).head).toBe(2);
  });

  it('goes through conflict strategies and validation hooks like a client push', async () => {
    const { url, alice } = await setup();
    await alice.write({
      scope: 'team:a',
      collection: 'contracts',
      id: 'k1',
      op: 'put',
      base: 0,
      value: { v: 1 },
    });
    const res = await write(url, {
      mutations: numbered(
        1,
        put('team:a', 'k1', { v: 2 }, 'contracts'), // concurrent with alice's (base 0): manual → conflict
        put('team:a', 'n1', { body: 'no title' }, 'notes'),
      ),
    });
    expect(res.body).toMatchObject({
      ok: true,
      results: [
        { mid: 1, status: 'conflict', record: { value: { v: 1 } } },
        { mid: 2, status: 'rejected', error: { code: 'validation_failed' } },
      ],
    });
  });

  it('applies the Node API through the same path, with its own exactly-once sequence', async () => {
    const { server, alice } = await setup();
    await alice.subscribe('team:a');
    const clientId = 'nightly-import';
    expect(await server.writerState(BACKEND, { clientId })).toEqual({ ok: true, clientId, lastMid: 0 });
    const batch = numbered(1, put('team:a', 'i1', { imported: true }));
    expect(await server.applyMutations(BACKEND, batch, { clientId })).toEqual({
      ok: true,
      clientId,
      results: [{ mid: 1, status: 'applied', version: 1 }],
    });
    await alice.waitForChange((m) => m.changes.some((c) => c.id === 'i1'));
    expect(await server.applyMutations(BACKEND, batch, { clientId })).toMatchObject({
      results: [{ status: 'duplicate' }],
    });
    expect(await server.writerState(BACKEND, { clientId })).toMatchObject({ lastMid: 1 });
    // Validation is not skipped for trusted callers.
    expect(
      await server.applyMutations(BACKEND, [{ ...batch[0]!, mid: 2, scope: 'bad scope' } as never]),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_message' },
    });
    // Authorization of the principal applies per scope.
    expect(
      await server.applyMutations({ id: 'bob' }, numbered(1, put('user:alice', 'x', { n: 1 }))),
    ).toMatchObject({
      ok: true,
      results: [{ status: 'rejected', error: { code: 'forbidden' } }],
    });
  });

  it("refuses a client id bound to another principal (a device's id cannot be written as)", async () => {
    const { url, server, alice } = await setup();
    // A client id is bound to its user by its first push.
    await alice.write({
      scope: 'team:a',
      collection: 'notes',
      id: 'mine',
      op: 'put',
      base: 0,
      value: { n: 0 },
    });
    const res = await write(url, {
      clientId: alice.clientId,
      mutations: numbered(1, put('team:a', 'x', { n: 1 })),
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ ok: false, error: { code: 'client_id_mismatch' } });
    expect(
      await server.applyMutations({ id: 'mallory' }, numbered(1, put('team:a', 'x', { n: 1 })), {
        clientId: alice.clientId,
      }),
    ).toMatchObject({ ok: false, error: { code: 'client_id_mismatch' } });
  });

  it('refuses writes once the server is shutting down', async () => {
    const { server } = await setup();
    await server.close();
    expect(await server.applyMutations(BACKEND, numbered(1, put('team:a', 'x', { n: 1 })))).toMatchObject({
      ok: false,
      error: { code: 'shutting_down', retryable: true },
    });
  });
});

describe('HTTP API auth and input checks', () => {
  const mutations = numbered(1, put('team:a', 'x', { n: 1 }));

  it('refuses unauthenticated feed and write requests with 401 unauthenticated', async () => {
    const { url } = await setup();
    for (const headers of [{}, { authorization: 'Bearer nobody' }, { authorization: 'Basic YWxpY2U6eA==' }]) {
      const feed = await fetch(`${url}/v1/changes?scope=team:a`, { headers });
      expect(feed.status).toBe(401);
      expect(feed.headers.get('www-authenticate')).toBe('Bearer');
      expect(await feed.json()).toMatchObject({
        ok: false,
        error: { code: 'unauthenticated', retryable: false },
      });
      const w = await postJson(`${url}/v1/mutations`, { mutations }, { headers });
      expect(w.status).toBe(401);
      expect(w.body).toMatchObject({ error: { code: 'unauthenticated' } });
    }
    const expired = await postJson(`${url}/v1/mutations`, { mutations }, { token: 'expired' });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ error: { code: 'auth_expired', retryable: true } });
    expect((await running!.storage.pull('team:a' as never, 0 as never, 10)).head).toBe(0);
  });

  it('refuses unauthorized feed reads with 403 and applies no unauthorized write', async () => {
    const { url } = await setup();
    const feed = await fetch(`${url}/v1/changes?scope=user:bob`, {
      headers: { authorization: 'Bearer alice' },
    });
    expect(feed.status).toBe(403);
    expect(await feed.json()).toMatchObject({ error: { code: 'forbidden' } });
    const w = await write(url, { mutations: numbered(1, put('user:bob', 'x', { n: 1 })) }, 'alice');
    expect(w.body).toMatchObject({
      ok: true,
      results: [{ status: 'rejected', error: { code: 'forbidden' } }],
    });
    expect((await running!.storage.pull('user:bob' as never, 0 as never, 10)).head).toBe(0);
    // A browser page from a foreign origin is refused before authentication.
    const foreign = await fetch(`${url}/v1/changes?scope=team:a`, {
      headers: { authorization: 'Bearer alice', origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
  });

  it('answers bad input with 400 and an error code, changing nothing', async () => {
    const { url } = await setup();
    const cases: [unknown, string, string?][] = [
      [{ mutations: [] }, 'invalid_message'],
      [{ mutations, extra: 1 }, 'invalid_message'],
      [{ clientId: 'x', mutations }, 'invalid_message'],
      [{ mutations: [{ ...mutations[0], op: 'explode' }] }, 'unknown_op'],
      [
        { mutations: numbered(1, put('team:a', 'x', { n: 1 }), put('team:a', 'y', { n: 1 })).reverse() },
        'invalid_batch',
      ],
      [undefined, 'invalid_message', '{"mutations": ['],
      [
        undefined,
        'forbidden_key',
        `{"mutations": [{"mid": 1, "scope": "team:a", "collection": "c", "id": "x", "op": "put", "base": 0, "value": {"__proto__": {"admin": true}}}]}`,
      ],
    ];
    for (const [body, code, raw] of cases) {
      const res = await postJson(`${url}/v1/mutations`, body, { token: 'backend', ...(raw ? { raw } : {}) });
      expect(res.status, JSON.stringify(body ?? raw)).toBe(400);
      expect(res.body).toMatchObject({ ok: false, error: { code } });
    }
    const many = numbered(1, ...Array.from({ length: 501 }, (_, i) => put('team:a', `r${i}`, { i })));
    expect((await write(url, { mutations: many })).body).toMatchObject({
      error: { code: 'too_many_mutations' },
    });
    const feed = await fetch(`${url}/v1/changes?scope=team:a&after=-1`, {
      headers: { authorization: 'Bearer alice' },
    });
    expect(feed.status).toBe(400);
    const noScope = await fetch(`${url}/v1/changes`, { headers: { authorization: 'Bearer alice' } });
    expect(await noScope.json()).toMatchObject({ error: { code: 'invalid_message' } });
    expect((await running!.storage.pull('team:a' as never, 0 as never, 10)).head).toBe(0);
  });

  it('limits the body size (413), needs JSON (415), and answers unknown routes and methods', async () => {
    const { url } = await setup();
    const big = await postJson(`${url}/v1/mutations`, undefined, {
      token: 'backend',
      raw: JSON.stringify({ mutations: [put('team:a', 'x', { s: 'x'.repeat(1_100_000) })] }),
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: { code: 'payload_too_large' } });
    const text = await postJson(`${url}/v1/mutations`, undefined, {
      token: 'backend',
      raw: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const get = await fetch(`${url}/v1/mutations`, { headers: { authorization: 'Bearer backend' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const nothing = await fetch(`${url}/v2/nothing`);
    expect(nothing.status).toBe(404);
    expect(await nothing.json()).toMatchObject({ error: { code: 'unknown_route' } });
  });
});
