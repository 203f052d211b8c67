import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allOrNothing, counterWithin, storageChecks, type Expected } from './checks.js';
import { sqliteDb, type ServerDb } from './server-db.js';

// The checks must be able to fail: a storage with a lost write, a double inc and a gap is
// caught by each check, and a sound one passes.
let dir: string;
let raw: Database.Database;
let db: ServerDb;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-checks-'));
  raw = new Database(join(dir, 's.db'));
  raw.exec(`
    CREATE TABLE scopes (scope TEXT PRIMARY KEY, head INTEGER NOT NULL);
    CREATE TABLE records (scope TEXT, collection TEXT, id TEXT, version INTEGER, value TEXT);
    CREATE TABLE history (scope TEXT, collection TEXT, id TEXT, version INTEGER, op TEXT,
                          client_id TEXT, mid INTEGER, value TEXT);
    INSERT INTO scopes VALUES ('board:1', 3);
    INSERT INTO records VALUES ('board:1', 'cards', 'ctr-1', 3, '{"id":"ctr-1","n0":2}'),
                               ('board:1', 'cards', 'j-0-0', 1, '{"id":"j-0-0","board":"1","title":"a"}');
    INSERT INTO history VALUES ('board:1', 'cards', 'j-0-0', 1, 'put', 'c0', 1, '{"id":"j-0-0","board":"1","title":"a"}'),
                               ('board:1', 'cards', 'ctr-1', 2, 'inc', 'c0', 2, '{"id":"ctr-1","n0":1}'),
                               ('board:1', 'cards', 'ctr-1', 3, 'inc', 'c0', 3, '{"id":"ctr-1","n0":2}');
  `);
  db = sqliteDb(join(dir, 's.db'));
});
afterEach(async () => {
  await db.close();
  raw.close();
  rmSync(dir, { recursive: true, force: true });
});

const expected = (incs: number, journal: Record<string, Record<string, unknown>>): Expected => ({
  scopes: ['board:1'],
  counters: new Map([['ctr-1', new Map([['n0', incs]])]]),
  journal: new Map(Object.entries(journal)),
});

describe('chaos checks', () => {
  it('pass on a sound storage', async () => {
    const checks = await storageChecks(db, expected(2, { 'j-0-0': { board: '1', title: 'a' } }));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('catch a lost write, a miscounted counter and a version gap', async () => {
    raw.exec(`UPDATE scopes SET head = 4`);
    const checks = await storageChecks(
      db,
      expected(3, { 'j-0-0': { board: '1', title: 'a' }, 'j-0-1': { board: '1', title: 'b' } }),
    );
    expect(checks.map((c) => c.ok)).toEqual([false, false, false]);
    expect(checks[2]!.detail).toContain('head 4');
  });

  it('catch a mutation applied twice', async () => {
    raw.exec(
      `INSERT INTO history VALUES ('board:1', 'cards', 'ctr-1', 4, 'inc', 'c0', 3, '{"id":"ctr-1","n0":3}')`,
    );
    const [, once] = await storageChecks(db, expected(2, {}));
    expect(once!.detail).toContain('applied twice');
    expect((await counterWithin(db, 'ctr-1', 'n0', 1, 5)).ok).toBe(false);
  });

  it('count what inc entries added, so one entry standing for a coalesced run counts whole', async () => {
    raw.exec(`DELETE FROM history WHERE id = 'ctr-1' AND version = 2`);
    raw.exec(`UPDATE history SET mid = 2 WHERE id = 'ctr-1'`);
    raw.exec(`UPDATE scopes SET head = 2`);
    raw.exec(`UPDATE history SET version = 2 WHERE id = 'ctr-1'`);
    const checks = await storageChecks(db, expected(2, { 'j-0-0': { board: '1', title: 'a' } }));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect((await counterWithin(db, 'ctr-1', 'n0', 2, 2)).ok).toBe(true);
  });

  it('bound counters by acknowledged and attempted, and find torn transactions', async () => {
    expect((await counterWithin(db, 'ctr-1', 'n0', 1, 3)).ok).toBe(true);
    expect((await counterWithin(db, 'ctr-1', 'n0', 3, 4)).ok).toBe(false);
    expect((await allOrNothing(db, [['j-0-0', 'j-0-9']], [])).ok).toBe(false);
    expect((await allOrNothing(db, [['j-0-8', 'j-0-9']], ['j-0-0'])).ok).toBe(false);
    expect((await allOrNothing(db, [['j-0-8', 'j-0-9']], ['j-0-7'])).ok).toBe(true);
  });
});
