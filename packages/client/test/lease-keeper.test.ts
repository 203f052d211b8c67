// fake-indexeddb first: Dexie must see it when it loads.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper } from '../src/leader-lease-keeper.js';
import { storeDb } from './store-test-db.js';

const TIMING = { heartbeatMs: 1_000, staleAfterMs: 6_000 };

/** Counts the fence's reads of the lease (read-only `get`s on Syncline's meta store). */
function countLeaseReads(): { count(): number } {
  let reads = 0;
  const original = Reflect.get<IDBObjectStore, 'get'>(IDBObjectStore.prototype, 'get');
  const spy = vi.spyOn(IDBObjectStore.prototype, 'get').mockImplementation(function (
    this: IDBObjectStore,
    query: IDBValidKey | IDBKeyRange,
  ) {
    if (this.name === '_syncline_meta' && this.transaction.mode === 'readonly') reads++;
    return original.call(this, query);
  });
  afterEach(() => spy.mockRestore());
  return { count: () => reads };
}

/** Two tabs' keepers of one fresh database, on the clock `now` reads. */
function twoTabs(now: () => number) {
  const { db } = storeDb();
  return { db, a: new LeaseKeeper(db, TIMING, now), b: new LeaseKeeper(db, TIMING, now) };
}

describe('the fence of a leader that knows its lease', () => {
  const reads = countLeaseReads();

  it('passes without a read while its own last write of the lease is fresh, then reads', async () => {
    let now = 1_000;
    const { db } = storeDb();
    const keeper = new LeaseKeeper(db, TIMING, () => now);
    const claim = await keeper.claim('a');
    const before = reads.count();
    expect(await keeper.holds(claim)).toBe(true);
    now += TIMING.staleAfterMs / 2 - 1;
    expect(await keeper.holds(claim)).toBe(true);
    expect(reads.count()).toBe(before);
    // Half the stale bound after its last write, it reads: it still holds it.
    now += 1;
    expect(await keeper.holds(claim)).toBe(true);
    expect(reads.count()).toBe(before + 1);
    // A renewal is fresh knowledge again.
    expect(await keeper.renew(claim)).toBe(true);
    expect(await keeper.holds(claim)).toBe(true);
    expect(reads.count()).toBe(before + 1);
    db.close();
  });

  it('reads once it forgot (a page about to freeze hands its lock over): another tab claimed', async () => {
    const { db, a, b } = twoTabs(() => 1_000);
    const claim = await a.claim('a');
    a.forget();
    await b.claim('b'); // through the lock a gave up, with no wait for staleness
    expect(await a.holds(claim)).toBe(false);
    db.close();
  });

  it('learns nothing from a claim that ends after it forgot', async () => {
    const { db, a, b } = twoTabs(() => 1_000);
    const claiming = a.claim('a');
    a.forget(); // the page froze while its claim was being written
    const claim = await claiming;
    await b.claim('b');
    expect(await a.holds(claim)).toBe(false);
    db.close();
  });

  it('reads after a hang: a tab that ran no code for the stale bound may have been taken over', async () => {
    let now = 1_000;
    const { db, a, b } = twoTabs(() => now);
    const claim = await a.claim('a');
    await db.table('_syncline_outbox').add({ mid: 1, table: 'cards', key: 'c1', createdAt: 0, mutation: {} });
    now += TIMING.staleAfterMs + 1;
    expect(await b.takeOverIfStale('b')).toBe(true);
    expect(await a.holds(claim)).toBe(false);
    db.close();
  });
});
