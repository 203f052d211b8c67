// fake-indexeddb first: Dexie must see it when it loads.
import 'fake-indexeddb/auto';
import { Dexie, type DBCore, type Middleware } from 'dexie';
import { synclineStores } from '../src/store/schema.js';

let n = 0;

/**
 * A fresh Dexie database with a `cards` table keyed by `id` (or declared as `cards`) and
 * Syncline's tables, no sync client.
 */
export function storeDb(cards = 'id'): { db: Dexie; writes: string[] } {
  const db = new Dexie(`store-unit-${process.pid}-${++n}`);
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

/** `storeDb`, also recording every read-write transaction opened (`txs`, in order). */
export function trackedDb(cards = 'id'): { db: Dexie; writes: string[]; txs: TrackedTx[] } {
  const { db, writes } = storeDb(cards);
  const txs: TrackedTx[] = [];
  db.use({
    stack: 'dbcore',
    name: 'TrackTransactions',
    create: (down) => ({
      ...down,
      transaction: (stores, mode, options) => {
        const trans = down.transaction(stores, mode, options);
        if (mode === 'readwrite') {
          const tx: TrackedTx = { stores: [...stores].sort(), committed: false };
          txs.push(tx);
          const idb = trans as unknown as IDBTransaction;
          const commit = idb.commit.bind(idb);
          idb.commit = () => {
            tx.committed = true;
            commit();
          };
        }
        return trans;
      },
    }),
  });
  return { db, writes, txs };
}
