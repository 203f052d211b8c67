// store-test-db first: it installs fake-indexeddb before Dexie loads.
import { trackedDb } from './store-test-db.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dexie } from 'dexie';
import { asScopeId, asVersion, type JsonObject, type MutationResult } from '@syncline/protocol';
import { LocalStore } from '../src/store/local-store.js';
import { SYNCLINE_TABLES, type OutboxEntry } from '../src/store/schema.js';
import { settleResults } from '../src/store/settle-results.js';

// The lean settle (`lean-settle.ts`): an all-`applied` answer settles over the outbox, the metas
// and the cursors (and the conflicts when an `inc` was answered) with one range delete, to the
// same state as the full settle; any other answer takes the full path.
const scope = asScopeId('board:1');
const { outbox: OUTBOX, records: RECORDS, scopes: SCOPES, conflicts: CONFLICTS } = SYNCLINE_TABLES;
const entry = (mid: number, id: string, op: 'patch' | 'inc', set: JsonObject = {}): OutboxEntry =>
  ({
    mid,
    table: 'cards',
    key: id,
    createdAt: 0,
    mutation:
      op === 'inc'
        ? { mid, scope, collection: 'cards', id, base: 1, op, field: 'n', by: 1 }
        : { mid, scope, collection: 'cards', id, base: 1, op, patch: { set } },
  }) as unknown as OutboxEntry;
const applied = (mid: number, version: number) => ({ mid, status: 'applied', version }) as MutationResult;

const ENTRIES = [
  entry(1, 'c1', 'patch', { n: 1 }),
  entry(2, 'c1', 'patch', { title: 'x' }),
  entry(3, 'c2', 'inc'),
  entry(4, 'c3', 'patch', { title: 'still pending' }),
];

const dbs: Dexie[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

/** A device with the four entries queued (c2 with an open conflict) and its cursor at 3. */
async function device() {
  const t = trackedDb();
  dbs.push(t.db);
  const { db } = t;
  await db.table(OUTBOX).bulkPut(ENTRIES);
  await db.table(RECORDS).bulkPut([
    { table: 'cards', id: 'c1', scope, version: 1, includedMid: 0, confirmed: { title: 'a' } },
    { table: 'cards', id: 'c2', scope, version: 1, includedMid: 0, confirmed: { n: 1 } },
    { table: 'cards', id: 'c3', scope, version: 1, includedMid: 0, confirmed: { title: 'c' } },
  ]);
  await db.table('cards').bulkPut([
    { id: 'c1', title: 'x', n: 1 },
    { id: 'c2', n: 2 },
    { id: 'c3', title: 'still pending' },
  ]);
  const theirs = { scope, collection: 'cards', id: 'c2', version: 1, value: { n: 1 }, deleted: false };
  await db.table(CONFLICTS).put({ mid: 0, table: 'cards', id: 'c2', scope, base: null, mine: null, theirs });
  await db.table(SCOPES).put({ scope, cursor: 3, horizon: 0 });
  t.txs.length = 0;
  t.writes.length = 0;
  const store = new LocalStore(db, ['cards'], { remote: new WeakSet(), txn: new WeakMap() }, () => 0);
  return { ...t, store };
}

const stateOf = async (db: Dexie) => ({
  outbox: await db.table(OUTBOX).toArray(),
  records: await db.table(RECORDS).toArray(),
  conflicts: await db.table(CONFLICTS).toArray(),
  cards: await db.table('cards').toArray(),
});

describe('the lean settle', () => {
  it('settles an all-applied answer like the full settle, with one range delete, committed at once', async () => {
    const lean = await device();
    const full = await device();
    const results = [applied(1, 4), applied(2, 5), applied(3, 6)];
    const committed = [{ scope, after: asVersion(3), count: 3 }];
    const out = await lean.store.settle(ENTRIES.slice(0, 3), results, committed);
    expect(out).toMatchObject({ applied: 3, conflicts: 0, rejections: 0 });
    expect(out.cursors.get(scope)).toBe(6);
    expect(lean.txs).toEqual([{ stores: [OUTBOX, CONFLICTS, RECORDS, SCOPES].sort(), committed: true }]);
    expect(lean.writes.filter((w) => w.includes(OUTBOX))).toEqual([`deleteRange ${OUTBOX} 0`]);
    expect(await lean.db.table(SCOPES).get(scope)).toMatchObject({ cursor: 6 });

    await full.db.transaction('rw', full.db.tables, () =>
      settleResults(full.db, ENTRIES.slice(0, 3), results, () => 0),
    );
    expect(await stateOf(lean.db)).toEqual(await stateOf(full.db));
    expect((await stateOf(lean.db)).conflicts[0]).toMatchObject({ counters: ['n'] });
  });

  it('deletes entry by entry when the answered mids are not dense', async () => {
    const { db, store, writes, txs } = await device();
    await store.settle([ENTRIES[0]!, ENTRIES[3]!], [applied(1, 4), applied(4, 5)]);
    expect(txs).toEqual([{ stores: [OUTBOX, RECORDS, SCOPES].sort(), committed: true }]);
    expect(writes.filter((w) => w.includes(OUTBOX))).toEqual([`delete ${OUTBOX} 2`]);
    expect((await db.table(OUTBOX).toArray()).map((e: OutboxEntry) => e.mid)).toEqual([2, 3]);
  });

  it('takes the full path for any other answer, on every store it may write but meta', async () => {
    const { db, store, txs } = await device();
    const record = {
      scope,
      collection: 'cards',
      id: 'c1',
      version: 7,
      value: { title: 'theirs' },
      deleted: false,
    };
    const conflict = { mid: 1, status: 'conflict', record } as unknown as MutationResult;
    const out = await store.settle([ENTRIES[0]!], [conflict]);
    expect(out).toMatchObject({ conflicts: 1 });
    expect(txs).toEqual([
      {
        stores: [OUTBOX, RECORDS, SCOPES, CONFLICTS, SYNCLINE_TABLES.rejections, 'cards'].sort(),
        committed: false,
      },
    ]);
    // The app row is rewritten: their value with the still pending patch replayed on it.
    expect(await db.table('cards').get('c1')).toEqual({ id: 'c1', title: 'x' });
  });
});
