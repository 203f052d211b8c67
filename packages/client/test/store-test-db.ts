// fake-indexeddb first: Dexie must see it when it loads.
import 'fake-indexeddb/auto';
import { Dexie, type DBCore, type Middleware } from 'dexie';
import { synclineStores } from '../src/store/schema.js';

let n = 0;

/** A fresh Dexie database with a `cards` table keyed by `id` and Syncline's tables, no sync client. */
export function storeDb(): { db: Dexie; writes: string[] } {
  const db = new Dexie(`store-unit-${process.pid}-${++n}`);
  db.version(1).stores({ cards: 'id', ...synclineStores });
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
