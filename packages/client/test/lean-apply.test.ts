// store-test-db first: it installs fake-indexeddb before Dexie loads.
import { trackedDb } from './store-test-db.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dexie } from 'dexie';
import { asScopeId, asVersion, type Change, type JsonObject } from '@syncline/protocol';
import { LocalStore } from '../src/store/local-store.js';
import { SYNCLINE_TABLES, type OutboxEntry } from '../src/store/schema.js';

// The lean apply (`lean-apply.ts`): two waves over the scopes, records and the batch's app
// tables, committed at once; and each way back to the full path.
const scope = asScopeId('board:1');
const { scopes: SCOPES, records: RECORDS, outbox: OUTBOX } = SYNCLINE_TABLES;
const LEAN = ['cards', RECORDS, SCOPES].sort();
const change = (version: number, id: string, value: JsonObject | null): Change =>
  ({ collection: 'cards', id, version, value, clientId: 'other', mid: 1 }) as unknown as Change;
const none = () => 0;
/** A pending patch of `id` setting `n: 1`. */
const patch = (mid: number, id: string): OutboxEntry =>
  ({
    mid,
    table: 'cards',
    key: id,
    createdAt: 0,
    mutation: { mid, scope, collection: 'cards', id, base: 0, op: 'patch', patch: { set: { n: 1 } } },
  }) as unknown as OutboxEntry;

const dbs: Dexie[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

function setup(cards = 'id') {
  const t = trackedDb(cards);
  dbs.push(t.db);
  const store = new LocalStore(t.db, ['cards'], { remote: new WeakSet(), txn: new WeakMap() }, () => 0);
  return { ...t, store };
}

describe('the lean apply', () => {
  it('applies a live message over the touched stores only, in one transaction committed at once', async () => {
    const { db, store, txs } = setup();
    const out = await store.applyLive(
      scope,
      0,
      [change(1, 'c1', { title: 'a' }), change(2, 'c2', null)],
      none,
    );
    expect(out).toMatchObject({ fresh: [{ id: 'c1' }, { id: 'c2' }] });
    expect(txs).toEqual([{ stores: LEAN, committed: true }]);
    expect(await db.table('cards').get('c1')).toEqual({ id: 'c1', title: 'a' });
    expect(await db.table(RECORDS).get(['cards', 'c1'])).toMatchObject({ version: 1 });
    expect(await db.table(SCOPES).get(scope)).toMatchObject({ cursor: 2 });
    // An older state is skipped, as on the full path.
    await store.applyChanges(scope, [change(1, 'c1', { title: 'old' })], none, { to: 3 });
    expect(await db.table('cards').get('c1')).toEqual({ id: 'c1', title: 'a' });
    expect(await db.table(SCOPES).get(scope)).toMatchObject({ cursor: 3 });
  });

  it('stale and gap write nothing but the cursor check', async () => {
    const { db, store, txs } = setup();
    await store.applyLive(scope, 0, [change(1, 'c1', { title: 'a' })], none);
    expect(await store.applyLive(scope, 0, [change(1, 'c1', { title: 'again' })], none)).toBe('stale');
    expect(await store.applyLive(scope, 5, [change(6, 'c6', { title: 'b' })], none)).toBe('gap');
    expect(txs.map((t) => t.stores)).toEqual([LEAN, LEAN, LEAN]);
    expect(await db.table('cards').count()).toBe(1);
    expect(await db.table(SCOPES).get(scope)).toMatchObject({ cursor: 1 });
  });

  it('takes the full path, with the outbox, for a record with pending mutations', async () => {
    const { db, store, txs } = setup();
    await db.table(OUTBOX).put(patch(4, 'c1'));
    await db
      .table(RECORDS)
      .put({ table: 'cards', id: 'c1', scope, version: 0, includedMid: 0, confirmed: null });
    txs.length = 0;
    await store.applyLive(scope, 0, [change(1, 'c1', { title: 'a' }), change(2, 'c2', { title: 'b' })], none);
    expect(txs.map((t) => t.stores)).toEqual([LEAN, [...LEAN, OUTBOX].sort()]);
    // The pending patch is replayed on the new server state; its confirmed copy kept.
    expect(await db.table('cards').get('c1')).toEqual({ id: 'c1', title: 'a', n: 1 });
    expect(await db.table(RECORDS).get(['cards', 'c1'])).toMatchObject({
      version: 1,
      confirmed: { title: 'a' },
    });
    expect(await db.table('cards').get('c2')).toEqual({ id: 'c2', title: 'b' });
    expect(await db.table(SCOPES).get(scope)).toMatchObject({ cursor: 2 });
  });

  it("the full path still folds this client's own committed ranges into the cursor", async () => {
    const { db, store } = setup();
    // Versions 2–3 are this client's own commits, settled before the cursor reached them.
    await store.settle([], [], [{ scope, after: asVersion(1), count: 2 }]);
    await db
      .table(RECORDS)
      .put({ table: 'cards', id: 'c1', scope, version: 0, includedMid: 0, confirmed: null });
    await db.table(OUTBOX).put(patch(4, 'c1'));
    expect(await store.applyLive(scope, 0, [change(1, 'c1', { title: 'a' })], none)).toMatchObject({
      fresh: [{}],
    });
    expect(await db.table(SCOPES).get(scope)).toMatchObject({ cursor: 3 });
  });

  it('applies a reset page (forced, dropping the scope first) on every store', async () => {
    const { db, store, txs } = setup();
    await store.applyLive(
      scope,
      0,
      [change(5, 'c1', { title: 'new' }), change(6, 'gone', { title: 'x' })],
      none,
    );
    await store.applyChanges(scope, [change(2, 'c1', { title: 'older history' })], none, {
      to: 2,
      reset: true,
    });
    expect(txs[1]!.stores).toContain(OUTBOX);
    expect(txs[1]!.stores).toContain(SYNCLINE_TABLES.meta);
    expect(await db.table('cards').toArray()).toEqual([{ id: 'c1', title: 'older history' }]);
    expect(await db.table(SCOPES).get(scope)).toMatchObject({ cursor: 2 });
  });

  it('never commits early a batch written to a table with a unique index; a refused row fails it all', async () => {
    const { db, store, txs } = setup('id, &slug');
    await store.applyLive(scope, 0, [change(1, 'c1', { slug: 'a' })], none);
    expect(txs[0]).toEqual({ stores: LEAN, committed: false });
    // c2 takes c1's slug: the unique index refuses it once placed, and nothing of the batch stays.
    const two = [change(2, 'c3', { slug: 'c' }), change(3, 'c2', { slug: 'a' })];
    await expect(store.applyLive(scope, 1, two, none)).rejects.toThrow();
    expect(await db.table('cards').get('c3')).toBeUndefined();
    expect(await db.table(SCOPES).get(scope)).toMatchObject({ cursor: 1 });
  });

  it('does not commit early when a Dexie hook places the writes later', async () => {
    const { db, store, txs } = setup();
    db.table('cards').hook('creating', () => undefined);
    await store.applyLive(scope, 0, [change(1, 'c1', { title: 'a' })], none);
    expect(txs[0]).toEqual({ stores: LEAN, committed: false });
    expect(await db.table('cards').get('c1')).toEqual({ id: 'c1', title: 'a' });
  });

  it('aborts, not commits, when IndexedDB refuses a write as it is placed', async () => {
    const { db, store } = setup();
    await db.open();
    // As Chromium's IndexedDB can (an origin out of quota): `put` throws synchronously.
    const probe = db.backendDB().transaction('cards', 'readonly');
    const proto = Object.getPrototypeOf(probe.objectStore('cards')) as IDBObjectStore;
    const put = Object.getOwnPropertyDescriptor(proto, 'put')!;
    Object.defineProperty(proto, 'put', {
      ...put,
      value(this: IDBObjectStore, value: { title?: string }, key?: IDBValidKey) {
        if (value.title === 'too big') throw new DOMException('out of quota', 'QuotaExceededError');
        return (put.value as IDBObjectStore['put']).call(this, value, key);
      },
    });
    try {
      const batch = [change(1, 'c1', { title: 'fits' }), change(2, 'c2', { title: 'too big' })];
      await expect(store.applyLive(scope, 0, batch, none)).rejects.toThrow();
    } finally {
      Object.defineProperty(proto, 'put', put);
    }
    expect(await db.table('cards').count()).toBe(0);
    expect(await db.table(RECORDS).count()).toBe(0);
    expect(await db.table(SCOPES).get(scope)).toBeUndefined();
  });
});
