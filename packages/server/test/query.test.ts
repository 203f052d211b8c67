import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../src/index.js';
import type { QueryResponse } from '@syncline/protocol';
import { allPages, cards, date, ok, refused, S, seed } from './helpers/query.js';
import { coll, Env } from './helpers/scenario.js';
import { tokenAuth } from './helpers/token-auth.js';

const env = new Env();
const dirs: string[] = [];
afterEach(async () => {
  await env.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('query: where, order and pages', () => {
  it('filters with an AND of clauses on top-level and dotted fields, orders, and pages by cursor', async () => {
    await env.start();
    const alice = await env.connect('alice');
    await seed(alice);

    const rows = await allPages(alice, {
      scope: S,
      collection: 'cards',
      where: [
        { field: 'status', op: 'eq', value: 'todo' },
        { field: 'n', op: 'gte', value: 2 },
        { field: 'meta.team', op: 'in', values: ['red', 'green'] },
      ],
      orderBy: { field: 'n', direction: 'desc' },
      limit: 1,
    });
    expect(rows.map((r) => r.id)).toEqual(['c04', 'c02']);
    expect(rows.every((r) => r.source === 'syncline' && typeof r.version === 'number')).toBe(true);
    expect(rows[0]!.value).toMatchObject({ n: 4, meta: { team: 'red' } });

    // Dates compare by time; a deleted record and other collections never show.
    const due = await allPages(alice, {
      scope: S,
      collection: 'cards',
      where: [{ field: 'due', op: 'gt', value: date('2026-01-09') }],
      limit: 5,
    });
    expect(due.map((r) => r.id)).toEqual(['c09', 'c10']);
    const ne = await allPages(alice, {
      scope: S,
      collection: 'cards',
      where: [{ field: 'status', op: 'ne', value: 'done' }],
      limit: 4,
    });
    expect(ne.map((r) => r.id)).toEqual(['c00', 'c02', 'c04', 'c06', 'c08', 'c10']);
    // A comparison across kinds never matches (a number field against a string).
    const none = await ok(alice, {
      scope: S,
      collection: 'cards',
      where: [{ field: 'n', op: 'lt', value: 'z' }],
      limit: 5,
    });
    expect(none).toMatchObject({ rows: [], next: null, partial: false, errors: [] });
  });

  it('looks up own properties only: prototype names match nothing or are refused, and nothing changes', async () => {
    await env.start();
    const alice = await env.connect('alice');
    await seed(alice);
    const headOf = async () => {
      const p = await alice.pull(S);
      return p.ok ? p.head : -1;
    };
    const head = await headOf();
    const base = { scope: S, collection: 'cards', limit: 20 };
    for (const field of ['toString', 'hasOwnProperty', 'meta.valueOf', 'n.toFixed']) {
      const res = await ok(alice, { ...base, where: [{ field, op: 'ne', value: 'x' }] });
      expect(res.rows.length, field).toBe(11); // missing everywhere: `ne` matches all
      const eq = await ok(alice, { ...base, where: [{ field, op: 'eq', value: 'function' }] });
      expect(eq.rows, field).toEqual([]);
    }
    for (const field of ['__proto__', 'constructor', 'meta.prototype', 'meta.__proto__.x']) {
      await refused(alice, { ...base, where: [{ field, op: 'eq', value: 1 }] }, 'forbidden_key');
    }
    await refused(alice, { ...base, orderBy: { field: 'constructor' } }, 'forbidden_key');
    expect(head).toBe(14);
    expect(await headOf()).toBe(head);
  });

  it('refuses a bad query with a clear code', async () => {
    await env.start();
    const alice = await env.connect('alice');
    await seed(alice);
    const base = { scope: S, collection: 'cards', limit: 10 };
    await refused(alice, { ...base, where: [{ field: 'n', op: 'like', value: 1 }] }, 'invalid_message');
    await refused(alice, { ...base, where: [{ field: 'n', op: 'in', value: 1 }] }, 'invalid_message');
    await refused(
      alice,
      { ...base, where: [{ field: 'n', op: 'eq', value: 1, extra: 1 }] },
      'invalid_message',
    );
    await refused(alice, { ...base, limit: 501 }, 'invalid_message');
    await refused(alice, { ...base, limit: 0 }, 'invalid_message');
    const many = Array.from({ length: 17 }, () => ({ field: 'n', op: 'eq', value: 1 }));
    await refused(alice, { ...base, where: many }, 'invalid_message');
    expect(
      await refused(alice, { ...base, where: [{ field: 'a..b', op: 'eq', value: 1 }] }, 'invalid_query'),
    ).toMatch(/empty segment/);
    expect(
      await refused(alice, { ...base, where: [{ field: 'n', op: 'lt', value: { a: 1 } }] }, 'invalid_query'),
    ).toMatch(/compares with/);
    await refused(alice, { ...base, where: [{ field: '$date', op: 'eq', value: 1 }] }, 'invalid_query');
    await refused(
      alice,
      { ...base, where: [{ field: 'n', op: 'eq', value: { $nope: 1 } }] },
      'invalid_query',
    );
    await refused(alice, { ...base, after: 'not-a-cursor' }, 'invalid_query');
    const forged = Buffer.from(JSON.stringify({ i: 1, s: 'syncline' })).toString('base64url');
    await refused(alice, { ...base, after: forged }, 'invalid_query');
    // Nothing was written by any of it.
    const pulled = await alice.pull(S);
    expect(pulled.ok && pulled.head).toBe(14);
  });

  it('refuses a scope larger than maxScanRecords', async () => {
    await env.start({ query: { maxScanRecords: 5 } });
    const alice = await env.connect('alice');
    await seed(alice);
    expect(await refused(alice, { scope: S, collection: 'cards', limit: 1 }, 'invalid_query')).toMatch(
      /more than 5/,
    );
  });
});

describe('query: authorization', () => {
  it('needs pull access to the scope, over the socket and over HTTP', async () => {
    const { url } = await env.start({ auth: tokenAuth });
    const alice = await env.connect('alice');
    const bob = await env.connect('bob');
    await bob.write(coll('user:bob', 'cards').put('secret', 0, { n: 1 }));
    await alice.write(cards.put('shared', 0, { n: 1 }));

    const msg = await refused(alice, { scope: 'user:bob', collection: 'cards', limit: 5 }, 'forbidden');
    expect(msg).toMatch(/no pull access/);
    expect(
      (await ok(bob, { scope: 'user:bob', collection: 'cards', limit: 5 })).rows.map((r) => r.id),
    ).toEqual(['secret']);

    const post = (token: string, body: unknown) =>
      fetch(`${url}/v1/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const good = await post('alice', { scope: S, collection: 'cards', limit: 5 });
    expect(good.status).toBe(200);
    expect(((await good.json()) as QueryResponse & { ok: true }).rows.map((r) => r.id)).toEqual(['shared']);
    const denied = await post('alice', { scope: 'user:bob', collection: 'cards', limit: 5 });
    expect(denied.status).toBe(403);
    const bad = await post('alice', {
      scope: S,
      collection: 'cards',
      limit: 5,
      where: [{ field: '__proto__', op: 'eq', value: 1 }],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('forbidden_key');
  });
});

describe.each(['memory', 'sqlite'] as const)('query paging under concurrent writes (%s)', (kind) => {
  it('never repeats or skips a record that did not move; new records after the cursor show once', async () => {
    let storage: SqliteStorage | undefined;
    if (kind === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'syncline-query-'));
      dirs.push(dir);
      storage = await SqliteStorage.open({ path: join(dir, 'q.db') });
    }
    await env.start(storage ? { storage } : {});
    const alice = await env.connect('alice');
    const writer = await env.connect('bob');
    const id = (n: number) => `r${String(n).padStart(2, '0')}`;
    for (let n = 0; n < 20; n++) await writer.write(cards.put(id(n), 0, { n: n * 10 }));

    const req = { scope: S, collection: 'cards', orderBy: { field: 'n' }, limit: 5 } as const;
    const seen: string[] = [];
    let page = await ok(alice, req);
    seen.push(...page.rows.map((r) => r.id));
    expect(seen).toEqual(['r00', 'r01', 'r02', 'r03', 'r04']);

    // Between pages: one record lands before the cursor, one after it, one is deleted ahead,
    // one ahead is edited without moving, and the last one on the page is edited in place.
    await writer.write(
      cards.put('early', 0, { n: 15 }),
      cards.put('late', 0, { n: 125 }),
      cards.delete(id(9), 9),
      cards.patch(id(15), 15, { note: 'edited' }),
      cards.patch(id(4), 4, { note: 'edited' }),
    );
    while (page.next !== null) {
      page = await ok(alice, { ...req, after: page.next });
      seen.push(...page.rows.map((r) => r.id));
      // A write on every page: a record right behind the cursor never shows.
      await writer.write(cards.put(`behind-${seen.length}`, 0, { n: -1 }));
    }
    const expected = [...Array.from({ length: 20 }, (_, n) => id(n)).filter((x) => x !== 'r09'), 'late'];
    expected.sort(
      (a, b) =>
        (a === 'late' ? 125 : Number(a.slice(1)) * 10) - (b === 'late' ? 125 : Number(b.slice(1)) * 10),
    );
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
