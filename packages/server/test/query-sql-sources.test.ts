import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueryResponse } from '@syncline/protocol';
import { dropSchema, PG_URL, testSchema } from '@syncline/test-support/databases';
import type { TestClient } from '@syncline/test-support/server';
import { postgresQuerySource, sqliteQuerySource, type ClosableQuerySource } from '../src/index.js';
import { coll, Env } from './helpers/scenario.js';

const S = 'team:a';
const cards = coll(S, 'cards');
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
