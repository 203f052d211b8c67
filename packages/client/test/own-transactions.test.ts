// store-test-db first: it installs fake-indexeddb before Dexie loads.
import { storeDb } from './store-test-db.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { liveQuery, type Dexie } from 'dexie';
import { asScopeId, type Change } from '@syncline/protocol';
import { claimOwnTransaction, withSynclineDurability } from '../src/store/durability.js';
import { LocalStore } from '../src/store/local-store.js';

// Syncline's own transactions are created like the app's (outside any Dexie zone of ours), so
// what their commit wakes runs as it would after a plain Dexie write.
const scope = asScopeId('board:1');
const change = (version: number, title: string): Change =>
  ({
    collection: 'cards',
    id: 'c1',
    version,
    value: { title },
    clientId: 'other',
    mid: 1,
  }) as unknown as Change;

const dbs: Dexie[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const db of dbs.splice(0)) await db.delete();
});

/** Lets IndexedDB (fake-indexeddb: `setImmediate`) and promises run, `times` rounds. */
async function ioRounds(times: number): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe("Syncline's own transactions", () => {
  it('wake a live query that re-runs at once, not a timer later', async () => {
    const { db } = storeDb();
    dbs.push(db);
    const store = new LocalStore(db, ['cards'], { remote: new WeakSet(), txn: new WeakMap() }, () => 0);
    // Only timers are faked: a re-run that waits for one never comes unless they are advanced.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const seen: unknown[] = [];
    const sub = liveQuery(() => db.table('cards').get('c1')).subscribe((v) => seen.push(v));
    try {
      await vi.advanceTimersByTimeAsync(0); // a live query's first run is Dexie's timer
      await ioRounds(20);
      expect(seen).toEqual([undefined]);
      await store.applyLive(scope, 0, [change(1, 'from the server')], () => 0);
      await ioRounds(20);
      expect(seen).toEqual([undefined, { id: 'c1', title: 'from the server' }]);
    } finally {
      sub.unsubscribe();
    }
  });

  it('are told apart by database and stores, in the order they were asked for, and forgotten if never created', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = withSynclineDurability('relaxed', 'db-a', ['s2', 's1'], () => held);
    const second = withSynclineDurability('strict', 'db-a', ['s1', 's2'], () => held);
    // Another database with the same stores is not Syncline's transaction of db-a.
    expect(claimOwnTransaction('db-b', ['s1', 's2'])).toBeUndefined();
    expect(claimOwnTransaction('db-a', ['s1'])).toBeUndefined();
    expect(claimOwnTransaction('db-a', ['s1', 's2'])).toBe('relaxed');
    release();
    await Promise.all([first, second]);
    // The second was never created (its `start` made no transaction): settling forgot it.
    await new Promise((r) => setTimeout(r, 0));
    expect(claimOwnTransaction('db-a', ['s1', 's2'])).toBeUndefined();
  });
});
