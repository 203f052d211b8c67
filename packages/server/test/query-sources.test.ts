import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueryResponse } from '@syncline/protocol';
import { eventually } from '@syncline/test-support';
import { dropSchema, PG_URL, testSchema } from '@syncline/test-support/databases';
import type { TestClient } from '@syncline/test-support/server';
import {
  postgresQuerySource,
  sqliteQuerySource,
  type ClosableQuerySource,
  type QuerySource,
  type SourceQuery,
  type Timers,
} from '../src/index.js';
import { allPages, ask as askRaw, cards, S, seed, type Req } from './helpers/query.js';
import { Env } from './helpers/scenario.js';
const env = new Env();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await env.stop();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ask = async (c: TestClient, req: Record<string, unknown>) => {
  const res = (await c.raw('query', { scope: S, collection: 'cards', limit: 10, ...req })) as QueryResponse;
  if (!res.ok) throw new Error(`${res.error.code}: ${res.error.message}`);
  return res;
};

describe('SQL query sources', () => {
  it('reads a SQLite view through a read-only connection, bound to the scope', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-sqlsrc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'archive.db');
    const setup = new Database(file);
    setup.exec(`CREATE TABLE old_cards (id TEXT, scope TEXT, title TEXT, n INTEGER);
      INSERT INTO old_cards VALUES ('o1', 'team:a', 'old one', 1), ('o2', 'team:a', 'old two', 5),
        ('o3', 'team:b', 'other team', 2);
      CREATE VIEW archive AS SELECT id, title, n, scope FROM old_cards;`);
    setup.close();
    const archive: ClosableQuerySource = sqliteQuerySource(file, {
      sql: 'SELECT id, title, n FROM archive WHERE scope = @scope',
    });
    cleanups.push(() => archive.close());
    const writes: ClosableQuerySource = sqliteQuerySource(file, { sql: 'DELETE FROM old_cards' });
    cleanups.push(() => writes.close());
    await env.start({ query: { sources: { archive, writes } } });
    const alice = await env.connect('alice');
    await alice.write(cards.put('c1', 0, { title: 'live', n: 3 }));

    const res = await ask(alice, { orderBy: { field: 'n' }, where: [{ field: 'n', op: 'lt', value: 5 }] });
    expect(res.rows.map((r) => `${r.source}:${r.id}`)).toEqual(['archive:o1', 'syncline:c1']);
    expect(res.rows[0]!.value).toEqual({ id: 'o1', title: 'old one', n: 1 });
    // A statement that writes is refused, and nothing was deleted.
    expect(res.partial).toBe(true);
    expect(res.errors).toMatchObject([{ source: 'writes', error: { code: 'source_unavailable' } }]);
    expect(res.errors[0]!.error.message).toMatch(/must be a SELECT/);
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT count(*) AS n FROM old_cards').get()).toEqual({ n: 3 });
    check.close();
  });

  describe.skipIf(!PG_URL)('PostgreSQL', () => {
    it('reads a view in a READ ONLY transaction; a slow statement is cancelled and the page is partial', async () => {
      const url = PG_URL!;
      const schema = testSchema('qsrc');
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      cleanups.push(() => dropSchema(url, schema));
      cleanups.push(() => pool.end());
      await pool.query(`CREATE SCHEMA "${schema}";
        CREATE TABLE "${schema}".orders (id text, scope text, total int, placed timestamptz);
        INSERT INTO "${schema}".orders VALUES ('p1', 'team:a', 40, '2025-03-01T00:00:00Z'), ('p2', 'team:b', 7, now());
        CREATE VIEW "${schema}".v_orders AS SELECT * FROM "${schema}".orders;`);
      const orders = postgresQuerySource(pool, {
        sql: `SELECT id, total, placed FROM "${schema}".v_orders WHERE scope = $1`,
      });
      const sneaky = postgresQuerySource(pool, { sql: `DELETE FROM "${schema}".orders RETURNING id` });
      const slow = postgresQuerySource(pool, { sql: 'SELECT $1::text AS id, pg_sleep(5)', timeoutMs: 100 });
      await env.start({ query: { sources: { orders, sneaky, slow } } });
      const alice = await env.connect('alice');

      const started = Date.now();
      const res = await ask(alice, {});
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.rows).toEqual([
        {
          source: 'orders',
          id: 'p1',
          version: null,
          value: { id: 'p1', total: 40, placed: { $date: '2025-03-01T00:00:00.000Z' } },
        },
      ]);
      const errors = Object.fromEntries(res.errors.map((e) => [e.source, e.error.message]));
      expect(Object.keys(errors).sort()).toEqual(['slow', 'sneaky']);
      expect(errors['sneaky']).toMatch(/read-only transaction/);
      expect(errors['slow']).toMatch(/within 100 ms|statement timeout/);
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".orders`)).rows).toEqual([
        { n: 2 },
      ]);
    });
  });
});

/** Timers that fire only when the test says so (source timeouts). */
function manualTimers(): Timers & {
  pending: Map<number, { fn: () => void; ms: number }>;
  fire(ms: number): void;
} {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 0;
  return {
    pending,
    setTimeout: (fn, ms) => {
      pending.set(++next, { fn, ms });
      return next;
    },
    clearTimeout: (h) => {
      pending.delete(h as number);
    },
    fire(ms) {
      for (const [h, t] of [...pending]) {
        if (t.ms !== ms) continue;
        pending.delete(h);
        t.fn();
      }
    },
  };
}

describe('query: external sources', () => {
  it('merges source rows with Syncline records in one order, each row naming its source', async () => {
    const asked: SourceQuery[] = [];
    const archive: QuerySource = {
      collections: ['cards'],
      query: (q, ctx) => {
        asked.push(q);
        expect(ctx.principal.id).toBe('alice');
        return [
          { id: 'a1', value: { n: 1.5, status: 'todo', archivedAt: new Date('2025-01-01T00:00:00Z') } },
          { id: 'a2', value: { n: 100, status: 'todo' } },
          { id: 'a3', value: { n: 4, status: 'done' } },
        ];
      },
    };
    const other: QuerySource = { collections: ['people'], query: () => [{ id: 'p', value: { n: 0 } }] };
    await env.start({ query: { sources: { archive, other } } });
    const alice = await env.connect('alice');
    await seed(alice);
    const req: Req = {
      scope: S,
      collection: 'cards',
      where: [{ field: 'status', op: 'eq', value: 'todo' }],
      orderBy: { field: 'n' },
      limit: 3,
    };
    const rows = await allPages(alice, req);
    expect(rows.map((r) => `${r.source}:${r.id}`)).toEqual([
      'syncline:c00',
      'archive:a1',
      'syncline:c02',
      'syncline:c04',
      'syncline:c06',
      'syncline:c08',
      'syncline:c10',
      'archive:a2',
    ]);
    const a1 = rows[1]!;
    expect(a1).toEqual({
      source: 'archive',
      id: 'a1',
      version: null,
      value: { n: 1.5, status: 'todo', archivedAt: { $date: '2025-01-01T00:00:00.000Z' } },
    });
    // Each page told the source where it starts.
    expect(asked[0]!.after).toBeUndefined();
    expect(asked[1]!.after).toEqual({ value: 2, id: 'c02' });
    expect(asked[0]!.where).toEqual(req.where);
  });

  it('answers partial, with the source error, when a source fails or times out', async () => {
    const timers = manualTimers();
    let signal: AbortSignal | undefined;
    const sources: Record<string, QuerySource> = {
      broken: { query: () => Promise.reject(new Error('archive offline')) },
      bad: { query: () => [{ id: 'x', value: { n: Number.NaN } }] },
      slow: {
        timeoutMs: 777,
        query: (_q, ctx) => {
          signal = ctx.signal;
          return new Promise(() => undefined);
        },
      },
    };
    await env.start({ timers, query: { sources } });
    const alice = await env.connect('alice');
    await alice.write(cards.put('c1', 0, { n: 1 }));
    const pending = askRaw(alice, { scope: S, collection: 'cards', limit: 5 });
    await eventually(
      () => [...timers.pending.values()].some((t) => t.ms === 777),
      'the slow source is asked',
    );
    timers.fire(777);
    const res = await pending;
    if (!res.ok) throw new Error(res.error.message);
    expect(res.partial).toBe(true);
    expect(res.rows.map((r) => r.id)).toEqual(['c1']);
    const errors = Object.fromEntries(res.errors.map((e) => [e.source, e.error]));
    expect(Object.keys(errors).sort()).toEqual(['bad', 'broken', 'slow']);
    for (const e of Object.values(errors))
      expect(e).toMatchObject({ code: 'source_unavailable', retryable: true });
    expect(errors['broken']!.message).toMatch(/archive offline/);
    expect(errors['bad']!.message).toMatch(/finite/);
    expect(errors['slow']!.message).toMatch(/within 777 ms/);
    expect(signal?.aborted).toBe(true);
  });

  it('refuses bad source names and shapes at start', async () => {
    const query = () => [];
    await expect(env.start({ query: { sources: { syncline: { query } } } })).rejects.toThrow(
      /not 'syncline'/,
    );
    await expect(env.start({ query: { sources: { ok: { query, timeoutMs: 0 } } } })).rejects.toThrow(
      /timeoutMs/,
    );
  });
});
