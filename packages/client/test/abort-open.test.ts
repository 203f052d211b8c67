// store-test-db first: it installs fake-indexeddb before Dexie loads.
import { storeDb } from './store-test-db.js';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../src/store/local-store.js';
import { SYNCLINE_TABLES } from '../src/store/schema.js';

const dbs: { close(): void }[] = [];
afterEach(() => dbs.splice(0).forEach((d) => d.close()));

// A page about to freeze aborts the engine's open transactions (`client-leadership`'s `freeze`
// handler): frozen, it would keep their locks and every tab's writes would wait.
describe('LocalStore.open.abortAll', () => {
  it('aborts an open remote transaction: nothing it wrote stays', async () => {
    const { db } = storeDb();
    dbs.push(db);
    const store = new LocalStore(db, ['cards'], { remote: new WeakSet(), txn: new WeakMap() }, () => 0);
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const running = store.remote(async () => {
      await db.table('cards').put({ id: 'c1', title: 'written by the engine' });
      await db.table(SYNCLINE_TABLES.scopes).put({ scope: 'board:1', cursor: 9, horizon: 0 });
      inside();
      await held; // the engine would go on here; the page freezes instead
    });
    await entered;
    expect(store.open.abortAll()).toBe(1);
    release();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    expect(await db.table('cards').get('c1')).toBeUndefined();
    expect(await db.table(SYNCLINE_TABLES.scopes).get('board:1')).toBeUndefined();
    expect(store.open.abortAll()).toBe(0);
  });

  it('leaves finished transactions alone', async () => {
    const { db } = storeDb();
    dbs.push(db);
    const store = new LocalStore(db, ['cards'], { remote: new WeakSet(), txn: new WeakMap() }, () => 0);
    await store.remote(async () => {
      await db.table('cards').put({ id: 'c1', title: 'kept' });
    });
    expect(store.open.abortAll()).toBe(0);
    expect(await db.table('cards').get('c1')).toEqual({ id: 'c1', title: 'kept' });
  });
});
