import { afterEach, describe, expect, it } from 'vitest';
import { storeDb } from './store-test-db.js';
import { Dexie, type DBCoreTransaction } from 'dexie';
import { asScopeId, type Mutation } from '@syncline/protocol';
import { allocateMids, append, readMidCounter } from '../src/store/outbox.js';
import { SYNCLINE_TABLES, type MetaRow, type OutboxEntry } from '../src/store/schema.js';

const scope = asScopeId('board:1');
const entry = (mid: number): OutboxEntry => ({
  mid,
  table: 'cards',
  key: `c${mid}`,
  createdAt: 0,
  mutation: { mid, scope, collection: 'cards', id: `c${mid}`, base: 0, op: 'delete' } as Mutation,
});

const dbs: Dexie[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

/** Allocates `count` mids and appends entries for them in one transaction, as a queued write does. */
async function queue(db: Dexie, count: number): Promise<number[]> {
  return db.transaction('rw', [SYNCLINE_TABLES.outbox, SYNCLINE_TABLES.meta], async () => {
    const trans = Dexie.currentTransaction.idbtrans as unknown as DBCoreTransaction;
    const mids = allocateMids(await readMidCounter(db.core, trans), count);
    const list = Array.from({ length: count }, (_, i) => mids.first + i);
    await append(db.core, trans, list.map(entry), mids.next);
    return list;
  });
}

describe('allocateMids', () => {
  it('starts at 1 without a counter and numbers count mids from the counter', () => {
    expect(allocateMids(undefined, 3)).toEqual({ first: 1, next: 4 });
    const counter: MetaRow = { key: 'nextMid', value: 7 };
    expect(allocateMids(counter, 2)).toEqual({ first: 7, next: 9 });
    expect(allocateMids(counter, 0)).toEqual({ first: 7, next: 7 });
  });
});

describe('append', () => {
  it('adds the entries and moves the counter in the same transaction, so mids stay dense', async () => {
    const { db } = storeDb();
    dbs.push(db);
    expect(await queue(db, 2)).toEqual([1, 2]);
    expect(await queue(db, 3)).toEqual([3, 4, 5]);
    const stored = await db.table<OutboxEntry>(SYNCLINE_TABLES.outbox).toArray();
    expect(stored.map((e) => e.mid)).toEqual([1, 2, 3, 4, 5]);
    expect(await db.table(SYNCLINE_TABLES.meta).get('nextMid')).toEqual({ key: 'nextMid', value: 6 });
  });

  it('rejects, and its transaction commits nothing, when an entry cannot be added', async () => {
    const { db } = storeDb();
    dbs.push(db);
    await queue(db, 1);
    const again = db.transaction('rw', [SYNCLINE_TABLES.outbox, SYNCLINE_TABLES.meta], async () => {
      const trans = Dexie.currentTransaction.idbtrans as unknown as DBCoreTransaction;
      // Mid 1 is taken: the add fails, which DBCore reports as data.
      await append(db.core, trans, [entry(1)], 9);
    });
    await expect(again).rejects.toThrow();
    expect(await db.table(SYNCLINE_TABLES.meta).get('nextMid')).toEqual({ key: 'nextMid', value: 2 });
  });
});
