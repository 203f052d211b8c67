// store-test-db first: it installs fake-indexeddb before Dexie loads.
import { trackedDb } from './store-test-db.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dexie } from 'dexie';
import { asScopeId, asVersion, type JsonObject, type MutationResult } from '@syncline/protocol';
import { LocalStore } from '../src/store/local-store.js';
import { SYNCLINE_TABLES, type OutboxEntry } from '../src/store/schema.js';
import { settleResults } from '../src/store/settle-results.js';
import { settlesLean } from '../src/store/lean-settle.js';

// The lean settle (`lean-settle.ts`): an answer of `applied` and `merged` results settles over the
// outbox, the metas, the cursors and the merged records' tables (and the conflicts when an `inc`
// was answered) with one range delete, to the same state as the full settle; any other answer
// takes the full path.
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
/** A server record state of `cards`, as a result carries it. */
const state = (id: string, version: number, value: JsonObject) =>
  ({ scope, collection: 'cards', id, version, value, deleted: false }) as const;
/** A result that is not `applied`, carrying the record's server state. */
const answer = (mid: number, status: 'merged' | 'conflict', record: ReturnType<typeof state>) =>
  ({ mid, status, record }) as unknown as MutationResult;

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

  it('settles merged answers like the full settle: their rows rebuilt, pending entries replayed', async () => {
    const lean = await device();
    const full = await device();
    // c1's first patch merged with a concurrent write (its second patch, mid 2, stays pending);
    // c2's inc applied; c3's patch merged, nothing of it left.
    const results = [
      answer(1, 'merged', state('c1', 4, { title: 'theirs', n: 1 })),
      applied(3, 5),
      answer(4, 'merged', state('c3', 6, { title: 'still pending', by: 'them' })),
    ];
    const answered = [ENTRIES[0]!, ENTRIES[2]!, ENTRIES[3]!];
    const out = await lean.store.settle(answered, results);
    expect(out).toMatchObject({ applied: 3, conflicts: 0, rejections: 0 });
    expect(lean.txs).toEqual([
      { stores: [OUTBOX, CONFLICTS, RECORDS, SCOPES, 'cards'].sort(), committed: true },
    ]);
    await full.db.transaction('rw', full.db.tables, () => settleResults(full.db, answered, results, () => 0));
    const settled = await stateOf(lean.db);
    expect(settled).toEqual(await stateOf(full.db));
    // The merged value with the pending patch on top; the one with nothing left, as merged.
    expect(settled.cards).toEqual([
      { id: 'c1', title: 'x', n: 1 },
      { id: 'c2', n: 2 },
      { id: 'c3', title: 'still pending', by: 'them' },
    ]);
    expect(settled.records.map((r: { id: string; version: number }) => [r.id, r.version])).toEqual([
      ['c1', 4],
      ['c2', 5],
      ['c3', 6],
    ]);
  });

  it('leaves a merged answer to the full path when its table is not synced (its row is not written)', () => {
    const merged = [answer(4, 'merged', state('c3', 6, { title: 't' }))];
    expect(settlesLean([ENTRIES[3]!], merged, () => true)).toBe(true);
    expect(settlesLean([ENTRIES[3]!], merged, (t) => t !== 'cards')).toBe(false);
    // An applied answer writes no row: lean whatever is synced.
    expect(settlesLean([ENTRIES[3]!], [applied(4, 6)], () => false)).toBe(true);
  });

  it('takes the full path for any other answer, on every store it may write but meta', async () => {
    const { db, store, txs } = await device();
    const conflict = answer(1, 'conflict', state('c1', 7, { title: 'theirs' }));
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
