// The last wave of Syncline's own read-write transactions, committed as soon as it is placed.
//
// IndexedDB commits a transaction once its page has handled the results of its last requests.
// A page paused by a debugger, or suspended by the OS without a `freeze` event, handles nothing:
// a transaction it had open keeps its stores, and every other tab's requests on them (its
// writes, its lease check) wait until it wakes. `IDBTransaction.commit()` asks the browser to
// commit once the placed requests are done, without the page: Chromium finishes it in its
// backend. So the apply and the settle place their writes in one task and commit right after
// (`commitAfter`): a tab paused after that point holds nothing. (Paused before it, with its
// read wave still pending, it still does: that window is one round of reads long. The one-wave
// apply, `guessed-apply.ts`, places its writes with its reads and commits once it has checked
// them (`placeWave`, then `commitPlaced`): the same window, one round of reads.)
//
// Committing early gives up what an auto-committed transaction does with a failed write:
// - a write IndexedDB refuses as it is placed (a value it cannot clone, an origin out of quota
//   in some engines) throws synchronously, and Dexie reports it only a tick later as a rejected
//   promise: committing in between would keep the other writes. Each request placed on `tx` is
//   counted here (`objectStore` is wrapped on this transaction object only), and the commit only
//   happens if every expected request was placed without throwing;
// - a request that fails once running (a unique index's ConstraintError) is cancelled by Dexie
//   (bulk writes report failures instead of aborting), so after a commit the rest would be kept.
//   A batch that writes a table with a unique secondary index therefore never commits early;
// - a DBCore middleware or a Dexie hook above Syncline's places the request later (hooks read
//   the old values first): fewer requests are placed in the task, and nothing is committed
//   early.
// In each of those cases the writes are awaited as before, so a failure still aborts the whole
// transaction (the caller's scope throws and Dexie aborts it).
import type { Dexie } from 'dexie';

interface Placed {
  /** Requests placed on the transaction so far. */
  count: number;
  /** A request threw as it was placed. */
  threw: boolean;
}

const placedOf = new WeakMap<IDBTransaction, Placed>();
const WRITES = ['put', 'add', 'delete', 'clear'] as const;

/** Starts counting the write requests placed on `tx` (idempotent). */
function watch(tx: IDBTransaction): Placed {
  const known = placedOf.get(tx);
  if (known) return known;
  const placed: Placed = { count: 0, threw: false };
  placedOf.set(tx, placed);
  const stores = new Set<IDBObjectStore>();
  const objectStore = tx.objectStore.bind(tx);
  // An own property of this transaction object: no other transaction is affected.
  tx.objectStore = (name: string): IDBObjectStore => {
    const store = objectStore(name);
    if (stores.has(store)) return store;
    stores.add(store);
    for (const method of WRITES) {
      const original = Reflect.get(store, method) as (...args: unknown[]) => IDBRequest;
      Object.defineProperty(store, method, {
        configurable: true,
        value: (...args: unknown[]): IDBRequest => {
          try {
            const req = original.apply(store, args);
            placed.count++;
            return req;
          } catch (err) {
            placed.threw = true;
            throw err;
          }
        },
      });
    }
    return store;
  };
  return placed;
}

/** Whether a write to `table` may fail once placed (a unique secondary index can refuse it). */
export function mayFailLate(db: Dexie, table: string): boolean {
  return db.table(table).schema.indexes.some((index) => index.unique === true);
}

/** The writes `place` issued, and whether all `expected` requests were placed without a throw. */
export interface PlacedWave {
  readonly writes: readonly Promise<unknown>[];
  readonly complete: boolean;
}

/**
 * Places a wave of writes (`place` issues every write, synchronously, through Dexie, and returns
 * their promises; `expected` is the number of IndexedDB requests they make), counting the
 * requests as IndexedDB takes them.
 */
export function placeWave(
  tx: IDBTransaction,
  expected: number,
  place: () => readonly Promise<unknown>[],
): PlacedWave {
  const placed = watch(tx);
  const before = placed.count;
  const writes = place();
  // `threw` stays set once a request threw, on this wave or an earlier one.
  return { writes, complete: !placed.threw && placed.count - before === expected };
}

/**
 * Ends a transaction whose last writes are `wave`: commits it at once when that is safe (see the
 * header), otherwise awaits the writes, as an auto-committed transaction would. Place nothing
 * after it. Returns whether it committed early.
 */
export async function commitPlaced(
  tx: IDBTransaction,
  wave: PlacedWave,
  lateFailures: boolean,
): Promise<boolean> {
  // Older engines lack `commit()`: they auto-commit as before.
  if (lateFailures || !wave.complete || typeof tx.commit !== 'function') {
    await Promise.all(wave.writes);
    return false;
  }
  tx.commit();
  // Their outcome is the transaction's: Dexie's promise for it rejects if it aborts.
  for (const w of wave.writes) w.catch(noop);
  return true;
}

/**
 * Places the final wave (see `placeWave`) and ends the transaction (`commitPlaced`). Call it last
 * in the transaction's scope, and place nothing after it. Returns whether it committed early.
 */
export function commitAfter(
  tx: IDBTransaction,
  expected: number,
  lateFailures: boolean,
  place: () => readonly Promise<unknown>[],
): Promise<boolean> {
  return commitPlaced(tx, placeWave(tx, expected, place), lateFailures);
}

function noop(): void {}
