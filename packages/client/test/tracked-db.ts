// Test databases that record what Syncline's store does with IndexedDB: the write requests, the
// read-write transactions, and the waves of requests in each. No IndexedDB of its own: Node tests
// import it through `store-test-db.ts` (fake-indexeddb first), the Chromium fixture directly.
import { Dexie, type DBCore, type Middleware } from 'dexie';
import { synclineStores } from '../src/store/schema.js';

let n = 0;
/** Unique per process and page: Node tests and the Chromium fixture share these helpers. */
const prefix = Math.random().toString(36).slice(2, 10);

/**
 * A fresh Dexie database with a `cards` table keyed by `id` (or declared as `cards`) and
 * Syncline's tables, no sync client.
 */
export function storeDb(cards = 'id'): { db: Dexie; writes: string[] } {
  const db = new Dexie(`store-unit-${prefix}-${++n}`);
  db.version(1).stores({ cards, ...synclineStores });
  /** One line per DBCore write request, `<type> <table> <count>`, in the order they are placed. */
  const writes: string[] = [];
  const counter: Middleware<DBCore> = {
    stack: 'dbcore',
    name: 'CountWrites',
    create: (down) => ({
      ...down,
      table: (name) => {
        const t = down.table(name);
        return {
          ...t,
          mutate: (req) => {
            const count =
              req.type === 'deleteRange' ? 0 : req.type === 'delete' ? req.keys.length : req.values.length;
            writes.push(`${req.type} ${name} ${count}`);
            return t.mutate(req);
          },
        };
      },
    }),
  };
  db.use(counter);
  return { db, writes };
}

/** One read-write transaction: its stores (sorted), and whether it was committed explicitly. */
export interface TrackedTx {
  readonly stores: string[];
  committed: boolean;
}

/**
 * What happened in one read-write transaction of `trackedDb`: for each request placed, how many
 * of the transaction's requests had completed before it (all 0: one wave, placed before any
 * result came back), and whether it aborted.
 */
export interface TxLife {
  readonly placedAfter: number[];
  aborted: boolean;
}

/** How many waves of requests `life` shows (a wave: requests placed before the next result). */
export const wavesOf = (life: TxLife): number => new Set(life.placedAfter).size;

/**
 * `storeDb`, also recording every read-write transaction opened (`txs`, in order) and what
 * happened in it (`lives`, same order).
 */
export function trackedDb(cards = 'id'): { db: Dexie; writes: string[]; txs: TrackedTx[]; lives: TxLife[] } {
  const { db, writes } = storeDb(cards);
  const txs: TrackedTx[] = [];
  const lives: TxLife[] = [];
  const lifeOf = new WeakMap<object, { life: TxLife; done: number }>();
  /** Runs a request of `trans`, noting how many had completed before it and counting it when done. */
  const track = <T>(trans: object, run: () => Promise<T>): Promise<T> => {
    const state = lifeOf.get(trans);
    if (!state) return run();
    state.life.placedAfter.push(state.done);
    return run().finally(() => state.done++);
  };
  db.use({
    stack: 'dbcore',
    name: 'TrackTransactions',
    create: (down) => ({
      ...down,
      transaction: (stores, mode, options) => {
        const trans = down.transaction(stores, mode, options);
        if (mode === 'readwrite') {
          const tx: TrackedTx = { stores: [...stores].sort(), committed: false };
          const life: TxLife = { placedAfter: [], aborted: false };
          txs.push(tx);
          lives.push(life);
          lifeOf.set(trans, { life, done: 0 });
          const idb = trans as unknown as IDBTransaction;
          idb.addEventListener('abort', () => (life.aborted = true));
          const commit = idb.commit.bind(idb);
          idb.commit = () => {
            tx.committed = true;
            commit();
          };
        }
        return trans;
      },
      table: (name) => {
        const t = down.table(name);
        return {
          ...t,
          get: (req) => track(req.trans, () => t.get(req)),
          getMany: (req) => track(req.trans, () => t.getMany(req)),
          query: (req) => track(req.trans, () => t.query(req)),
          count: (req) => track(req.trans, () => t.count(req)),
          mutate: (req) => track(req.trans, () => t.mutate(req)),
        };
      },
    }),
  });
  return { db, writes, txs, lives };
}
