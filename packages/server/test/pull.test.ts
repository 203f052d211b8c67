import { afterEach, describe, expect, it } from 'vitest';
import type { Change } from '@syncline/protocol';
import { appliedVersion, coll, Env, FakeClock, pullPage, type PullPageOk } from './helpers/scenario.js';

const S = 'team:a';
const cards = coll(S, 'cards');
const notes = coll(S, 'notes');

const env = new Env();
afterEach(() => env.stop());

const ids = (n: number, prefix = 'r') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

function expectAscending(changes: readonly Change[], after: number) {
  let last = after;
  for (const c of changes) {
    expect(c.version).toBeGreaterThan(last);
    last = c.version;
  }
}

describe('pull', () => {
  it('pages 250 records in pages of 100 with hasMore, upTo and ascending versions', async () => {
    await env.start();
    const writer = await env.connect('alice');
    const reader = await env.connect('bob');
    const results = await writer.write(...ids(250).map((id, i) => cards.put(id, 0, { i })));
    expect(results.map((r) => appliedVersion(r))).toEqual(ids(250).map((_, i) => i + 1));

    const pages: PullPageOk[] = [];
    let cursor = 0;
    for (let n = 0; n < 10; n++) {
      const page = await pullPage(reader, S, cursor, 100);
      expectAscending(page.changes, cursor);
      pages.push(page);
      cursor = page.upTo;
      if (!page.hasMore) break;
    }
    expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
    expect(pages.map((p) => p.changes.length)).toEqual([100, 100, 50]);
    expect(pages.map((p) => p.upTo)).toEqual([100, 200, 250]);
    expect(pages.map((p) => p.head)).toEqual([250, 250, 250]);
    expect(pages.every((p) => !p.reset)).toBe(true);
    const all = pages.flatMap((p) => p.changes);
    expect(all.map((c) => c.id)).toEqual(ids(250));
    expect(all.map((c) => c.value)).toEqual(ids(250).map((_, i) => ({ i })));
    expect(all[0]).toEqual({
      collection: 'cards',
      id: 'r000',
      version: 1,
      value: { i: 0 },
      clientId: writer.clientId,
      mid: 1,
    });
  });

  it('a record changed between pages shows up again in a later page with its new value', async () => {
    await env.start();
    const writer = await env.connect('alice');
    const reader = await env.connect('bob');
    await writer.write(...ids(250).map((id, i) => cards.put(id, 0, { i })));

    const state = new Map<string, Change>();
    const p1 = await pullPage(reader, S, 0, 100);
    for (const c of p1.changes) state.set(c.id, c);
    expect(p1).toMatchObject({ hasMore: true, upTo: 100 });

    // r010 (already pulled) and r150 (not yet pulled) change; a new record appears.
    const [u1, u2, n1] = await writer.write(
      cards.patch('r010', 11, { i: 'ten' }),
      cards.patch('r150', 151, { i: 'one-fifty' }),
      notes.put('new', 0, { n: 1 }),
    );
    expect([u1, u2, n1].map((r) => appliedVersion(r))).toEqual([251, 252, 253]);

    const p2 = await pullPage(reader, S, p1.upTo, 100);
    expectAscending(p2.changes, p1.upTo);
    expect(p2).toMatchObject({ hasMore: true, upTo: 201, head: 253 });
    // r150 moved to the end; the page is the next 100 by version.
    expect(p2.changes.some((c) => c.id === 'r150')).toBe(false);
    for (const c of p2.changes) state.set(c.id, c);
    const p3 = await pullPage(reader, S, p2.upTo, 100);
    expectAscending(p3.changes, p2.upTo);
    expect(p3).toMatchObject({ hasMore: false, upTo: 253, head: 253, reset: false });
    expect(p3.changes.slice(-3).map((c) => [c.id, c.version, c.value])).toEqual([
      ['r010', 251, { i: 'ten' }],
      ['r150', 252, { i: 'one-fifty' }],
      ['new', 253, { n: 1 }],
    ]);
    for (const c of p3.changes) state.set(c.id, c);

    expect(state.size).toBe(251);
    for (const [i, id] of ids(250).entries()) {
      const expected = id === 'r010' ? 'ten' : id === 'r150' ? 'one-fifty' : i;
      expect(state.get(id)?.value, id).toEqual({ i: expected });
    }
  });

  it('returns the latest state per record only, once', async () => {
    await env.start();
    const writer = await env.connect('alice');
    await writer.write(cards.put('a', 0, { n: 0 }), cards.put('b', 0, { n: 0 }));
    for (let n = 1; n <= 5; n++) await writer.write(cards.patch('a', n === 1 ? 1 : n + 1, { n }));

    const page = await pullPage(writer, S, 0);
    expect(page.changes.map((c) => [c.id, c.version, c.value])).toEqual([
      ['b', 2, { n: 0 }],
      ['a', 7, { n: 5 }],
    ]);
    expect(page).toMatchObject({ head: 7, upTo: 7, hasMore: false });
    // From a cursor between the updates, still only a's latest state.
    expect((await pullPage(writer, S, 4)).changes.map((c) => [c.id, c.version])).toEqual([['a', 7]]);
  });

  it('includes tombstones as value null', async () => {
    await env.start();
    const writer = await env.connect('alice');
    await writer.write(cards.put('a', 0, { n: 1 }), cards.put('b', 0, { n: 2 }));
    await writer.write(cards.delete('a', 1));
    const page = await pullPage(writer, S, 0);
    expect(page.changes).toEqual([
      { collection: 'cards', id: 'b', version: 2, value: { n: 2 }, clientId: writer.clientId, mid: 2 },
      { collection: 'cards', id: 'a', version: 3, value: null, clientId: writer.clientId, mid: 3 },
    ]);
    expect((await pullPage(writer, S, 2)).changes.map((c) => [c.id, c.value])).toEqual([['a', null]]);
  });

  it('a cursor above head resets to a full snapshot from 0', async () => {
    await env.start();
    const writer = await env.connect('alice');
    await writer.write(cards.put('a', 0, { n: 1 }), cards.put('b', 0, { n: 2 }), cards.put('c', 0, { n: 3 }));
    const page = await pullPage(writer, S, 10);
    expect(page).toMatchObject({ reset: true, head: 3, upTo: 3, hasMore: false });
    expect(page.changes.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    // At head exactly: nothing new, no reset.
    expect(await pullPage(writer, S, 3)).toMatchObject({ reset: false, changes: [], head: 3, upTo: 3 });
  });

  it('an unknown scope is empty with head 0', async () => {
    await env.start();
    const reader = await env.connect('alice');
    await reader.write(cards.put('a', 0, { n: 1 }));
    expect(await pullPage(reader, 'team:nobody', 0)).toEqual({
      ok: true,
      scope: 'team:nobody',
      changes: [],
      upTo: 0,
      head: 0,
      horizon: 0,
      hasMore: false,
      reset: false,
      lastMid: 1,
    });
  });

  it('caps limit at maxPullLimit', async () => {
    await env.start({ limits: { maxPullLimit: 40 } });
    const writer = await env.connect('alice');
    await writer.write(...ids(100).map((id, i) => cards.put(id, 0, { i })));
    const p1 = await pullPage(writer, S, 0, 1000);
    expect(p1.changes).toHaveLength(40);
    expect(p1).toMatchObject({ hasMore: true, upTo: 40, head: 100 });
    const p2 = await pullPage(writer, S, p1.upTo, 99);
    expect(p2.changes).toHaveLength(40);
    const p3 = await pullPage(writer, S, p2.upTo, 1000);
    expect(p3.changes).toHaveLength(20);
    expect(p3).toMatchObject({ hasMore: false, upTo: 100 });
    // A smaller limit is honoured as is.
    expect((await pullPage(writer, S, 0, 7)).changes).toHaveLength(7);
  });

  it('a fresh client pages through a scope whose purge horizon lies beyond its first page', async () => {
    const clock = new FakeClock(1_000);
    await env.start({ clock, retention: { maxAgeMs: 60_000 } });
    const writer = await env.connect('alice');
    await writer.write(...ids(30).map((id, i) => cards.put(id, 0, { i })));
    await writer.write(cards.put('gone', 0, { g: 1 }));
    await writer.write(cards.delete('gone', 31));
    await writer.write(...ids(10, 's').map((id, i) => cards.put(id, 0, { i })));
    clock.set(100_000);
    expect((await env.running.server.prune()).tombstonesRemoved).toBe(1);

    // Starting from 0 nothing can have been missed: no page may reset, and paging must end.
    const reader = await env.connect('bob');
    const seen = new Set<string>();
    let cursor = 0;
    let pages = 0;
    let done = false;
    // The first page from 0 tells the copy's horizon; later pages send it back.
    let horizon: number | undefined;
    while (!done && pages < 20) {
      const page = await pullPage(reader, S, cursor, 10, horizon);
      pages++;
      expect(page.reset, `page ${pages} from cursor ${cursor}`).toBe(false);
      horizon ??= page.horizon;
      expect(page.horizon).toBe(32);
      for (const c of page.changes) seen.add(c.id);
      cursor = page.upTo;
      done = !page.hasMore;
    }
    expect(done).toBe(true);
    expect(pages).toBe(4);
    expect(seen.size).toBe(40);
  });
});
