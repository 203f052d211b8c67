import { afterEach, describe, expect, it } from 'vitest';
import type { AppObject, JsonObject } from '@syncline/protocol';
import type { CollectionsConfig, CustomResolver, ResolveContext } from '../src/sync/collections.js';
import type { TestClient } from '@syncline/test-support/server';
import {
  appliedVersion,
  coll,
  Env,
  expectRejected,
  expectStatus,
  headOf,
  historyOf,
  recordOf,
} from './helpers/scenario.js';

const S = 'team:a';
const cards = coll(S, 'cards');

const env = new Env();
afterEach(() => env.stop());

/** A server with these collections and two users' clients: A (alice) and B (bob). */
async function setup(collections: CollectionsConfig = {}): Promise<{ a: TestClient; b: TestClient }> {
  await env.start({ collections });
  const a = await env.connect('alice');
  const b = await env.connect('bob');
  return { a, b };
}

/** A creates the record; its version is the base both clients then edit on. */
async function create(client: TestClient, c: ReturnType<typeof coll>, id: string, value: JsonObject) {
  const [r] = await client.write(c.put(id, 0, value));
  return appliedVersion(r);
}

describe('merge strategy (default)', () => {
  it('put vs put on different fields keeps both sides and flags nothing', async () => {
    const { a, b } = await setup();
    const base = await create(a, cards, 'c1', { title: 't', body: 'b', done: false });
    await a.subscribe(S);

    const [ra] = await a.write(cards.put('c1', base, { title: 'A', body: 'b', done: false }));
    expect(appliedVersion(ra)).toBe(2);
    const [rb] = await b.write(cards.put('c1', base, { title: 't', body: 'B', done: false }));
    const merged = expectStatus(rb, 'merged');
    expect(merged.strategy).toBe('merge');
    expect(merged.record).toEqual({
      scope: S,
      collection: 'cards',
      id: 'c1',
      version: 3,
      value: { title: 'A', body: 'B', done: false },
      clientId: b.clientId,
      mid: 1,
    });

    const [h3, h2, h1] = await historyOf(a, S, 'cards', 'c1');
    expect(h3).toMatchObject({ version: 3, prevVersion: 2, op: 'put', value: merged.record.value });
    expect(h3?.conflict).toEqual({ strategy: 'merge', overwritten: [] });
    expect(h2?.conflict).toBeNull();
    expect(h1?.conflict).toBeNull();

    // A sees the merged result live, not just its own write.
    const live = await a.waitForChange((m) => m.changes.some((c) => c.version === 3));
    expect(live.changes.find((c) => c.version === 3)?.value).toEqual({ title: 'A', body: 'B', done: false });
    expect((await recordOf(a, S, 'cards', 'c1'))?.value).toEqual({ title: 'A', body: 'B', done: false });
  });

  it('same field changed by both: later arrival wins, the field is flagged and the loser stays in history', async () => {
    const { a, b } = await setup();
    const base = await create(a, cards, 'c1', { title: 't', body: 'b' });

    await a.write(cards.put('c1', base, { title: 'A', body: 'bA' }));
    const [rb] = await b.write(cards.put('c1', base, { title: 'B', body: 'b', done: true }));
    const merged = expectStatus(rb, 'merged');
    // title: both changed → B (later) wins; body: only A changed; done: only B added.
    expect(merged.record.value).toEqual({ title: 'B', body: 'bA', done: true });
    expect(merged.record.version).toBe(3);

    const [h3, h2] = await historyOf(b, S, 'cards', 'c1');
    expect(h3).toMatchObject({ version: 3, prevVersion: 2, clientId: b.clientId });
    expect(h3?.conflict).toEqual({ strategy: 'merge', overwritten: ['title'] });
    // The overwritten value is still at prevVersion.
    expect(h2).toMatchObject({ version: 2, clientId: a.clientId, value: { title: 'A', body: 'bA' } });
  });

  it('patch vs patch on different fields merges with nothing flagged', async () => {
    const { a, b } = await setup();
    const base = await create(a, cards, 'c1', { title: 't', body: 'b', n: 1 });

    expect(appliedVersion((await a.write(cards.patch('c1', base, { title: 'A' })))[0])).toBe(2);
    const [rb] = await b.write(cards.patch('c1', base, { body: 'B' }, { unset: ['n'] }));
    const merged = expectStatus(rb, 'merged');
    expect(merged.strategy).toBe('merge');
    expect(merged.record.value).toEqual({ title: 'A', body: 'B' });
    const [h3] = await historyOf(a, S, 'cards', 'c1');
    expect(h3).toMatchObject({ version: 3, op: 'patch', conflict: { strategy: 'merge', overwritten: [] } });
  });

  it('patch vs patch on the same field: later arrival wins and the field is flagged', async () => {
    const { a, b } = await setup();
    const base = await create(a, cards, 'c1', { title: 't', body: 'b' });

    await a.write(cards.patch('c1', base, { title: 'A' }));
    const [rb] = await b.write(cards.patch('c1', base, { title: 'B' }));
    expect(expectStatus(rb, 'merged').record.value).toEqual({ title: 'B', body: 'b' });
    const [h3, h2] = await historyOf(a, S, 'cards', 'c1');
    expect(h3?.conflict).toEqual({ strategy: 'merge', overwritten: ['title'] });
    expect(h2?.value).toEqual({ title: 'A', body: 'b' });
  });

  it('nested object fields merge key by key (put vs put)', async () => {
    const { a, b } = await setup();
    const base = await create(a, cards, 'c1', { title: 't', meta: { color: 'red', size: 1, tags: ['x'] } });

    await a.write(cards.put('c1', base, { title: 't', meta: { color: 'blue', size: 1, tags: ['x'] } }));
    const [rb] = await b.write(
      cards.put('c1', base, { title: 't', meta: { color: 'red', size: 2, tags: ['x'] } }),
    );
    const merged = expectStatus(rb, 'merged');
    expect(merged.record.value).toEqual({ title: 't', meta: { color: 'blue', size: 2, tags: ['x'] } });
    expect((await historyOf(a, S, 'cards', 'c1'))[0]?.conflict).toEqual({
      strategy: 'merge',
      overwritten: [],
    });

    // Now both change the same nested field: the key path is flagged.
    const [ra2] = await a.write(
      cards.put('c1', 3, { title: 't', meta: { color: 'green', size: 2, tags: ['x'] } }),
    );
    expect(appliedVersion(ra2)).toBe(4);
    const [rb2] = await b.write(
      cards.put('c1', 3, { title: 't', meta: { color: 'pink', size: 2, tags: ['y'] } }),
    );
    expect(expectStatus(rb2, 'merged').record.value).toEqual({
      title: 't',
      meta: { color: 'pink', size: 2, tags: ['y'] },
    });
    expect((await historyOf(a, S, 'cards', 'c1'))[0]?.conflict).toEqual({
      strategy: 'merge',
      overwritten: ['meta.color'],
    });
  });

  it('nested patch vs patch on different sub-fields merges with nothing flagged', async () => {
    const { a, b } = await setup();
    const base = await create(a, cards, 'c1', { title: 't', meta: { color: 'red', size: 1 } });

    await a.write(cards.patch('c1', base, { 'meta.color': 'blue' }));
    const [rb] = await b.write(cards.patch('c1', base, { 'meta.size': 2 }));
    expect(expectStatus(rb, 'merged').record.value).toEqual({ title: 't', meta: { color: 'blue', size: 2 } });
    // B's patch overwrote no value of A's: nothing was lost, so nothing may be flagged.
    expect((await historyOf(a, S, 'cards', 'c1'))[0]?.conflict).toEqual({
      strategy: 'merge',
      overwritten: [],
    });
  });

  it('nested patch vs patch on the same sub-field flags that key path, as put vs put does', async () => {
    const { a, b } = await setup();
    const base = await create(a, cards, 'c1', { title: 't', meta: { color: 'red', size: 1 } });

    await a.write(cards.patch('c1', base, { 'meta.color': 'blue' }));
    const [rb] = await b.write(cards.patch('c1', base, { 'meta.color': 'green' }));
    expect(expectStatus(rb, 'merged').record.value).toEqual({
      title: 't',
      meta: { color: 'green', size: 1 },
    });
    expect((await historyOf(a, S, 'cards', 'c1'))[0]?.conflict).toEqual({
      strategy: 'merge',
      overwritten: ['meta.color'],
    });
  });
});

describe('concurrent creates', () => {
  it('two clients creating the same id on base 0 merge field by field (later arrival wins on a clash)', async () => {
    const { a, b } = await setup();
    expect(appliedVersion((await a.write(cards.put('c1', 0, { title: 'A', color: 'red' })))[0])).toBe(1);
    const merged = expectStatus((await b.write(cards.put('c1', 0, { title: 'B', size: 2 })))[0], 'merged');
    expect(merged.record.value).toEqual({ title: 'B', color: 'red', size: 2 });
    expect((await historyOf(a, S, 'cards', 'c1'))[0]?.conflict).toEqual({
      strategy: 'merge',
      overwritten: ['title'],
    });
  });

  it('under manual, the second create is a conflict', async () => {
    const { a, b } = await setup({ cards: { strategy: 'manual' } });
    await a.write(cards.put('c1', 0, { title: 'A' }));
    const conflict = expectStatus((await b.write(cards.put('c1', 0, { title: 'B' })))[0], 'conflict');
    expect(conflict.record).toMatchObject({ version: 1, value: { title: 'A' }, clientId: a.clientId });
  });
});

describe('lww strategy', () => {
  it('later arrival replaces the whole record and the loser stays in history', async () => {
    const { a, b } = await setup({ cards: { strategy: 'lww' } });
    const base = await create(a, cards, 'c1', { title: 't', body: 'b' });

    await a.write(cards.put('c1', base, { title: 'A', body: 'b', extra: 1 }));
    const [rb] = await b.write(cards.put('c1', base, { title: 'B', body: 'b' }));
    const merged = expectStatus(rb, 'merged');
    expect(merged.strategy).toBe('lww');
    // Unlike merge, A's `extra` does not survive: B's value replaces the record.
    expect(merged.record).toMatchObject({
      version: 3,
      value: { title: 'B', body: 'b' },
      clientId: b.clientId,
    });

    const [h3, h2] = await historyOf(a, S, 'cards', 'c1');
    expect(h3?.conflict?.strategy).toBe('lww');
    expect(h3?.conflict?.overwritten).toEqual(['extra', 'title']);
    expect(h2).toMatchObject({
      version: 2,
      clientId: a.clientId,
      value: { title: 'A', body: 'b', extra: 1 },
    });
    expect((await recordOf(a, S, 'cards', 'c1'))?.value).toEqual({ title: 'B', body: 'b' });
  });
});

describe('manual strategy', () => {
  it('refuses the later writer with the current record; the resolution is a new mutation on it', async () => {
    const { a, b } = await setup({ cards: { strategy: 'manual' } });
    const base = await create(a, cards, 'c1', { title: 't', body: 'b' });
    await a.write(cards.patch('c1', base, { title: 'A' }));

    const [bMutation] = b.mutations(cards.patch('c1', base, { title: 'B' }));
    const res = await b.push([bMutation!]);
    if (!res.ok) throw new Error(res.error.message);
    const conflict = expectStatus(res.results[0], 'conflict');
    expect(conflict.record).toEqual({
      scope: S,
      collection: 'cards',
      id: 'c1',
      version: 2,
      value: { title: 'A', body: 'b' },
      clientId: a.clientId,
      mid: 2,
    });
    // Nothing was written.
    expect(await headOf(b, S)).toBe(2);
    expect((await historyOf(b, S, 'cards', 'c1')).map((e) => e.version)).toEqual([2, 1]);

    // The mid advanced anyway: the same mutation again is a duplicate, not a second conflict.
    const again = await b.push([bMutation!]);
    expect(again.ok && again.results).toEqual([{ mid: bMutation!.mid, status: 'duplicate' }]);

    // The user's resolution, made on the current version, applies.
    const [resolved] = await b.write(cards.patch('c1', conflict.record.version, { title: 'A+B' }));
    expect(appliedVersion(resolved)).toBe(3);
    expect((await recordOf(a, S, 'cards', 'c1'))?.value).toEqual({ title: 'A+B', body: 'b' });
  });

  it('a put on a stale base is a conflict too', async () => {
    const { a, b } = await setup({ cards: { strategy: 'manual' } });
    const base = await create(a, cards, 'c1', { title: 't' });
    await a.write(cards.put('c1', base, { title: 'A' }));
    const [rb] = await b.write(cards.put('c1', base, { title: 'B' }));
    expect(expectStatus(rb, 'conflict').record).toMatchObject({ version: 2, value: { title: 'A' } });
    expect((await recordOf(a, S, 'cards', 'c1'))?.value).toEqual({ title: 'A' });
  });
});

describe('custom resolver', () => {
  it('writes what the resolver returns and hands it base, current and incoming', async () => {
    const seen: ResolveContext[] = [];
    const resolver: CustomResolver = (ctx) => {
      seen.push(ctx);
      const text = (v: AppObject | null) => (typeof v?.text === 'string' ? v.text : '?');
      return {
        action: 'write',
        value: { ...ctx.current, text: `${text(ctx.current)}+${text(ctx.incoming)}` },
      };
    };
    const { a, b } = await setup({ notes: { strategy: resolver } });
    const notes = coll(S, 'notes');
    const base = await create(a, notes, 'n1', { text: 'base', pinned: false });
    await a.write(notes.put('n1', base, { text: 'a', pinned: true }));
    // Non-concurrent writes never reach the resolver.
    expect(seen).toHaveLength(0);

    const [rb] = await b.write(notes.patch('n1', base, { text: 'b' }));
    const merged = expectStatus(rb, 'merged');
    expect(merged.strategy).toBe('custom');
    expect(merged.record).toMatchObject({ version: 3, value: { text: 'a+b', pinned: true } });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      scope: S,
      collection: 'notes',
      id: 'n1',
      base: { text: 'base', pinned: false },
      current: { text: 'a', pinned: true },
      incoming: { text: 'b', pinned: false },
      userId: 'bob',
    });
    expect((await historyOf(a, S, 'notes', 'n1'))[0]?.conflict?.strategy).toBe('custom');
    expect((await recordOf(a, S, 'notes', 'n1'))?.value).toEqual({ text: 'a+b', pinned: true });
  });

  it('a rejecting resolver gives validation_failed and writes nothing; the mid still advances', async () => {
    const { a, b } = await setup({
      notes: { strategy: () => ({ action: 'reject', message: 'stale edit refused' }) },
    });
    const notes = coll(S, 'notes');
    const base = await create(a, notes, 'n1', { text: 'base' });
    await a.write(notes.put('n1', base, { text: 'a' }));

    const [rb] = await b.write(notes.put('n1', base, { text: 'b' }));
    const error = expectRejected(rb, 'validation_failed');
    expect(error.message).toContain('stale edit refused');
    expect(error.retryable).toBe(false);
    expect(await headOf(a, S)).toBe(2);
    expect((await recordOf(a, S, 'notes', 'n1'))?.value).toEqual({ text: 'a' });

    // B's queue is not blocked: its next mutation (next mid) applies.
    const [next] = await b.write(notes.put('n1', 2, { text: 'b2' }));
    expect(appliedVersion(next)).toBe(3);
  });

  it('a throwing resolver is a validation_failed rejection, not a server error', async () => {
    const { a, b } = await setup({
      notes: {
        strategy: () => {
          throw new Error('boom');
        },
      },
    });
    const notes = coll(S, 'notes');
    const base = await create(a, notes, 'n1', { text: 'base' });
    await a.write(notes.put('n1', base, { text: 'a' }));
    expectRejected((await b.write(notes.put('n1', base, { text: 'b' })))[0], 'validation_failed');
    expect(await headOf(a, S)).toBe(2);
  });
});

const rejectAll: CustomResolver = () => ({ action: 'reject', message: 'never' });

describe.each([
  ['merge', {}],
  ['lww', { strategy: 'lww' }],
  ['manual', { strategy: 'manual' }],
  ['custom (rejects everything)', { strategy: rejectAll }],
] as const)('inc under %s', (_name, config) => {
  it('two offline +1 on the same base give +2', async () => {
    const { a, b } = await setup({ likes: config });
    const likes = coll(S, 'likes');
    const base = await create(a, likes, 'post1', { count: 10, title: 'x' });
    // A third party also moves the record on, so both incs are on a stale base.
    const c = await env.connect('carol');
    expect(appliedVersion((await c.write(likes.patch('post1', base, { title: 'y' })))[0])).toBe(2);

    const [ra] = await a.write(likes.inc('post1', base, 'count', 1));
    const [rb] = await b.write(likes.inc('post1', base, 'count', 1));
    for (const r of [ra, rb]) expect(['applied', 'merged']).toContain(r?.status);
    if (rb?.status === 'merged') expect(rb.record.value).toEqual({ count: 12, title: 'y' });
    expect(await headOf(a, S)).toBe(4);
    expect((await recordOf(a, S, 'likes', 'post1'))?.value).toEqual({ count: 12, title: 'y' });
  });
});

describe.each(['merge', 'lww'] as const)('update vs delete under %s', (strategy) => {
  it('delete then a concurrent update: delete wins, reported as merged with a null value', async () => {
    const { a, b } = await setup({ cards: { strategy } });
    const base = await create(a, cards, 'c1', { title: 't' });
    expect(appliedVersion((await a.write(cards.delete('c1', base)))[0])).toBe(2);

    const [patched, replaced] = await b.write(
      cards.patch('c1', base, { title: 'B' }),
      cards.put('c1', base, { title: 'B2' }),
    );
    for (const r of [patched, replaced]) {
      const merged = expectStatus(r, 'merged');
      expect(merged.strategy).toBe(strategy);
      expect(merged.record).toMatchObject({ version: 2, value: null, clientId: a.clientId });
    }
    expect(await headOf(a, S)).toBe(2);
    expect(await recordOf(a, S, 'cards', 'c1')).toMatchObject({ version: 2, value: null });
    expect(await historyOf(a, S, 'cards', 'c1')).toHaveLength(2);
  });

  it('update then a concurrent delete: the delete applies', async () => {
    const { a, b } = await setup({ cards: { strategy } });
    const base = await create(a, cards, 'c1', { title: 't' });
    await a.write(cards.patch('c1', base, { title: 'A' }));

    const merged = expectStatus((await b.write(cards.delete('c1', base)))[0], 'merged');
    expect(merged.strategy).toBe(strategy);
    expect(merged.record).toMatchObject({ version: 3, value: null, clientId: b.clientId });
    expect(await recordOf(a, S, 'cards', 'c1')).toMatchObject({ version: 3, value: null });
    const [h3, h2] = await historyOf(a, S, 'cards', 'c1');
    expect(h3).toMatchObject({ op: 'delete', value: null, conflict: { strategy } });
    expect(h2?.value).toEqual({ title: 'A' });
  });
});

describe('inc vs delete', () => {
  it('a concurrent delete wins over an inc', async () => {
    const { a, b } = await setup();
    const likes = coll(S, 'likes');
    const base = await create(a, likes, 'p', { count: 1 });
    await a.write(likes.delete('p', base));
    const merged = expectStatus((await b.write(likes.inc('p', base, 'count', 1)))[0], 'merged');
    expect(merged.record).toMatchObject({ version: 2, value: null });
    expect(await headOf(a, S)).toBe(2);
  });
});

describe('update vs delete under manual', () => {
  it('is a conflict in both orders and nothing is written', async () => {
    const { a, b } = await setup({ cards: { strategy: 'manual' } });
    const base1 = await create(a, cards, 'c1', { title: 't' });
    await a.write(cards.delete('c1', base1));
    const [up] = await b.write(cards.patch('c1', base1, { title: 'B' }));
    expect(expectStatus(up, 'conflict').record).toMatchObject({ id: 'c1', version: 2, value: null });

    const base2 = await create(a, cards, 'c2', { title: 't' });
    await a.write(cards.patch('c2', base2, { title: 'A' }));
    const [del] = await b.write(cards.delete('c2', base2));
    expect(expectStatus(del, 'conflict').record).toMatchObject({
      id: 'c2',
      version: 4,
      value: { title: 'A' },
    });

    expect(await headOf(a, S)).toBe(4);
  });
});

describe("a client's own mutations", () => {
  it('on the same stale base are never a conflict, even under manual', async () => {
    const { a, b } = await setup({ cards: { strategy: 'manual' } });
    const base = await create(b, cards, 'c1', { title: 't', body: 'b', n: 0 });

    // A edits twice on the version it knows, the second before it has seen the first's ack.
    expect(appliedVersion((await a.write(cards.patch('c1', base, { title: 'A' })))[0])).toBe(2);
    expect(appliedVersion((await a.write(cards.patch('c1', base, { body: 'A' })))[0])).toBe(3);
    // …and twice more in one push, still on the same base.
    const [r4, r5] = await a.write(cards.patch('c1', base, { n: 1 }), cards.put('c1', base, { title: 'A!' }));
    expect(appliedVersion(r4)).toBe(4);
    expect(appliedVersion(r5)).toBe(5);
    // A record created and edited before the create's ack (base 0 twice).
    const [c, e] = await a.write(
      cards.put('c2', 0, { title: 'new' }),
      cards.patch('c2', 0, { title: 'newer' }),
    );
    expect(appliedVersion(c)).toBe(6);
    expect(appliedVersion(e)).toBe(7);
    expect((await recordOf(a, S, 'cards', 'c2'))?.value).toEqual({ title: 'newer' });

    // The collection really is manual: B, on its own stale base, conflicts.
    expectStatus((await b.write(cards.patch('c1', base, { title: 'B' })))[0], 'conflict');
  });
});

describe('validation hook', () => {
  it('rejects a refused value with validation_failed and writes nothing', async () => {
    const calls: (AppObject | null)[] = [];
    const { a, b } = await setup({
      cards: {
        validate: (value, ctx) => {
          calls.push(ctx.previous);
          return typeof value.title === 'string' && value.title.length > 0 ? undefined : 'title is required';
        },
      },
    });
    const [bad] = await a.write(cards.put('c1', 0, { title: '' }));
    const error = expectRejected(bad, 'validation_failed');
    expect(error.message).toContain('title is required');
    expect(await headOf(a, S)).toBe(0);
    expect(await recordOf(a, S, 'cards', 'c1')).toBeUndefined();
    expect(await historyOf(a, S, 'cards', 'c1')).toEqual([]);

    // The next mutation is not blocked and gets version 1: the rejection consumed no version.
    expect(appliedVersion((await a.write(cards.put('c1', 0, { title: 'ok', body: 'b' })))[0])).toBe(1);
    expect(calls[1]).toBeNull();

    // A patch making the value invalid is refused too, and `previous` is the current value.
    expectRejected((await a.write(cards.patch('c1', 1, {}, { unset: ['title'] })))[0], 'validation_failed');
    expect(calls[2]).toEqual({ title: 'ok', body: 'b' });

    // A merged result is validated as well: B's concurrent unset of title survives the merge.
    await a.write(cards.patch('c1', 1, { body: 'A' }));
    expectRejected((await b.write(cards.patch('c1', 1, {}, { unset: ['title'] })))[0], 'validation_failed');
    expect(await recordOf(a, S, 'cards', 'c1')).toMatchObject({
      version: 2,
      value: { title: 'ok', body: 'A' },
    });
  });
});
