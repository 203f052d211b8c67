import { afterEach, describe, expect, it } from 'vitest';
import { storeDb } from './store-test-db.js';
import type { Dexie } from 'dexie';
import { asScopeId, type JsonObject, type Mutation } from '@syncline/protocol';
import {
  pendingOf,
  queuedMeta,
  RecordRows,
  storedMeta,
  visibleValue,
  type BareMeta,
} from '../src/store/record-rows.js';
import { SYNCLINE_TABLES, type OutboxEntry, type RecordMeta } from '../src/store/schema.js';

const scope = asScopeId('board:1');
const bare = (id: string, over: Partial<BareMeta> = {}): BareMeta => ({
  table: 'cards',
  id,
  scope,
  version: 3,
  includedMid: 0,
  ...over,
});
const patch = (mid: number, id: string, set: JsonObject): OutboxEntry => ({
  mid,
  table: 'cards',
  key: id,
  createdAt: 0,
  mutation: {
    mid,
    scope,
    collection: 'cards',
    id,
    base: 3,
    op: 'patch',
    patch: { set },
  } as unknown as Mutation,
});

const dbs: Dexie[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

describe('the visible-row rule', () => {
  it('keeps the confirmed copy in the meta only while mutations are pending', () => {
    expect(storedMeta(bare('c1'), { title: 'a' }, 0)).toEqual(bare('c1'));
    expect(storedMeta(bare('c1'), { title: 'a' }, 2)).toEqual({ ...bare('c1'), confirmed: { title: 'a' } });
    // A confirmed "absent" is kept too (null, not left out).
    expect(storedMeta(bare('c1'), null, 1)).toEqual({ ...bare('c1'), confirmed: null });
  });

  it('replays the entries after includedMid on the confirmed value, in mid order', () => {
    const entries = [patch(5, 'c1', { title: 'late' }), patch(2, 'c1', { title: 'early', n: 1 })];
    expect(visibleValue({ title: 'x' }, entries, 0)).toEqual({ title: 'late', n: 1 });
    expect(visibleValue({ title: 'x' }, entries, 2)).toEqual({ title: 'late' });
    expect(visibleValue({ title: 'x' }, entries, 5)).toEqual({ title: 'x' });
    expect(visibleValue(null, [], 0)).toBeNull();
  });

  it('writes a meta with the confirmed copy for the first queued mutation only', () => {
    const record = { table: 'cards', id: 'c1', scope };
    expect(queuedMeta(record, undefined, null)).toEqual({
      ...record,
      version: 0,
      includedMid: 0,
      confirmed: null,
    });
    const prev: RecordMeta = { ...record, version: 4, includedMid: 7 };
    expect(queuedMeta(record, prev, { title: 'a' })).toEqual({ ...prev, confirmed: { title: 'a' } });
    expect(queuedMeta(record, { ...prev, confirmed: { title: 'old' } }, { title: 'a' })).toBeUndefined();
  });
});

describe('RecordRows', () => {
  it('collects records, then writes metas and visible rows with one bulk request per store and kind', async () => {
    const { db, writes } = storeDb();
    dbs.push(db);
    await db.table('cards').bulkPut([{ id: 'gone', title: 'x' }]);
    await db.table(SYNCLINE_TABLES.outbox).bulkPut([patch(1, 'c2', { title: 'mine' })]);
    writes.length = 0;
    await db.transaction('rw', db.tables, async () => {
      const rows = new RecordRows(db);
      // The server's value lacks the key field: the row gets it back.
      rows.record(bare('c1'), { title: 'server' }, []);
      rows.record(bare('c2'), { title: 'server', n: 1 }, await pendingOf(db, 'cards', 'c2'));
      rows.record(bare('gone', { version: 9 }), null, []);
      rows.drop('cards', 'nothing');
      await rows.flush();
      // Flushed means forgotten: a second flush writes nothing.
      await rows.flush();
    });
    expect(writes.sort()).toEqual([
      'delete _syncline_records 1',
      'delete cards 2',
      'put _syncline_records 3',
      'put cards 2',
    ]);
    expect(await db.table('cards').toArray()).toEqual([
      { id: 'c1', title: 'server' },
      { id: 'c2', title: 'mine', n: 1 },
    ]);
    const metas = await db.table<RecordMeta>(SYNCLINE_TABLES.records).toArray();
    expect(metas).toEqual([
      bare('c1'),
      { ...bare('c2'), confirmed: { title: 'server', n: 1 } },
      bare('gone', { version: 9 }),
    ]);
  });

  it('keeps the last state of a record collected twice, and meta() leaves the row alone', async () => {
    const { db } = storeDb();
    dbs.push(db);
    await db.table('cards').put({ id: 'c1', title: 'shown' });
    await db.transaction('rw', db.tables, async () => {
      const rows = new RecordRows(db);
      rows.record(bare('c1'), { title: 'first' }, []);
      rows.drop('cards', 'c1');
      rows.meta(bare('c1', { version: 5 }), { title: 'confirmed' }, 1);
      await rows.flush();
    });
    // The drop's row delete stands; the meta put replaced the drop's meta delete.
    expect(await db.table('cards').get('c1')).toBeUndefined();
    expect(await db.table(SYNCLINE_TABLES.records).get(['cards', 'c1'])).toEqual({
      ...bare('c1', { version: 5 }),
      confirmed: { title: 'confirmed' },
    });
  });
});
