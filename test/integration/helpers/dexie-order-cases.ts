// The same app code run on plain Dexie and on Dexie with Syncline attached: each case must see
// exactly what plain Dexie sees. Shared by the Node test (fake-indexeddb, dexie-order.test.ts)
// and the Chromium fixture (test/browser/fixtures/dexie-order.ts), so it imports only Dexie.
//
// Most cases place a write the app does not await and then a read in the same transaction:
// IndexedDB runs a transaction's requests in the order they are placed, so the read sees the
// write only if the write was placed first, in the same tick the app issued it.
import { add, type Dexie, type Table } from 'dexie';

export interface OrderCard {
  id: string;
  board: string;
  title: string;
  likes?: number;
}

export interface OrderNote {
  id: string;
  board: string;
  text: string;
}

export type OrderDb = Dexie & { cards: Table<OrderCard, string>; notes: Table<OrderNote, string> };

/** The app's stores (both synced when Syncline is attached, scoped by `board`). */
export const ORDER_STORES: Readonly<Record<string, string>> = { cards: 'id, board', notes: 'id, board' };

export interface OrderCase {
  readonly name: string;
  /** Cards written (and awaited) before the case runs. */
  readonly seed?: readonly OrderCard[];
  /** The app code; resolves to what it observed. */
  run(db: OrderDb): Promise<unknown>;
  /** What plain Dexie observes. */
  readonly expected: unknown;
}

const card = (id: string, title: string, extra: Partial<OrderCard> = {}): OrderCard => ({
  id,
  board: '1',
  title,
  ...extra,
});

/** Runs `fn` in one read-write transaction over both tables. */
const rw = <R>(db: OrderDb, fn: () => Promise<R>): Promise<R> => db.transaction('rw', db.cards, db.notes, fn);

const titleOf = async (db: OrderDb, id: string): Promise<string | null> =>
  (await db.cards.get(id))?.title ?? null;

const titles = async (db: OrderDb): Promise<string[]> =>
  (await db.cards.orderBy('id').toArray()).map((c) => `${c.id}:${c.title}`);

/**
 * Issues `write` without awaiting it, then `read` in the same tick; resolves to the read's
 * result once both are done (the write is awaited last, so a failure still surfaces).
 */
async function writeThenRead<R>(write: () => Promise<unknown>, read: () => Promise<R>): Promise<R> {
  const w = write();
  const r = read();
  await w;
  return r;
}

const A = card('a', 'v1');
const B = card('b', 'v1');
const C = card('c', 'v1');

export const ORDER_CASES: readonly OrderCase[] = [
  {
    name: 'add, then get',
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.add(A),
          () => titleOf(db, 'a'),
        ),
      ),
    expected: 'v1',
  },
  {
    name: 'put of a new record, then get',
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.put(A),
          () => titleOf(db, 'a'),
        ),
      ),
    expected: 'v1',
  },
  {
    name: 'put of an existing record, then get',
    seed: [A],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.put(card('a', 'v2')),
          () => titleOf(db, 'a'),
        ),
      ),
    expected: 'v2',
  },
  {
    name: 'bulkAdd of 3, then count',
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.bulkAdd([A, B, C]),
          () => db.cards.count(),
        ),
      ),
    expected: 3,
  },
  {
    name: 'bulkPut (one new, one existing), then toArray',
    seed: [A],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.bulkPut([card('a', 'v2'), B]),
          () => titles(db),
        ),
      ),
    expected: ['a:v2', 'b:v1'],
  },
  {
    name: 'delete, then get',
    seed: [A],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.delete('a'),
          () => titleOf(db, 'a'),
        ),
      ),
    expected: null,
  },
  {
    name: 'bulkDelete of 2 (one missing), then primaryKeys',
    seed: [A, B, C],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.bulkDelete(['a', 'c', 'missing']),
          () => db.cards.toCollection().primaryKeys(),
        ),
      ),
    expected: ['b'],
  },
  {
    name: 'add, then where().first()',
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.add(A),
          async () => (await db.cards.where('board').equals('1').first())?.title ?? null,
        ),
      ),
    expected: 'v1',
  },
  {
    name: 'where(index).delete(), then toArray',
    seed: [A, B, card('c', 'v1', { board: '2' })],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.where('board').equals('1').delete(),
          () => titles(db),
        ),
      ),
    expected: ['c:v1'],
  },
  {
    name: 'where(primary key).delete() (a range delete), then toArray',
    seed: [A, B, C],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.where('id').belowOrEqual('b').delete(),
          () => titles(db),
        ),
      ),
    expected: ['c:v1'],
  },
  {
    name: 'table.clear(), then count',
    seed: [A, B],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.clear(),
          () => db.cards.count(),
        ),
      ),
    expected: 0,
  },
  {
    name: 'update, then get',
    seed: [A],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.update('a', { title: 'v2' }),
          () => titleOf(db, 'a'),
        ),
      ),
    expected: 'v2',
  },
  {
    name: 'update with add(n), then get',
    seed: [card('a', 'v1', { likes: 1 })],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => db.cards.update('a', { likes: add(2) }),
          async () => (await db.cards.get('a'))?.likes,
        ),
      ),
    expected: 3,
  },
  {
    name: 'where().modify({...}) and modify(fn), then toArray',
    seed: [A, B],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () =>
            Promise.all([
              db.cards.where('board').equals('1').modify({ title: 'm' }),
              db.cards
                .where('id')
                .equals('b')
                .modify((c) => {
                  c.title += '!';
                }),
            ]),
          () => titles(db),
        ),
      ),
    expected: ['a:m', 'b:m!'],
  },
  {
    name: 'a read placed before the write still sees the old state',
    seed: [A],
    run: (db) =>
      rw(db, async () => {
        const before = titleOf(db, 'a');
        const write = db.cards.put(card('a', 'v2'));
        const after = titleOf(db, 'a');
        await write;
        return [await before, await after];
      }),
    expected: ['v1', 'v2'],
  },
  {
    name: 'a mixed sequence of writes, none awaited, then toArray',
    seed: [A],
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () =>
            Promise.all([
              db.cards.put(B),
              db.cards.delete('a'),
              db.cards.update('b', { title: 'v2' }),
              db.cards.add(C),
              db.cards.put(card('a', 'again')),
              db.cards.bulkDelete(['c']),
            ]),
          () => titles(db),
        ),
      ),
    expected: ['a:again', 'b:v2'],
  },
  {
    name: 'the same record written three times, none awaited, reads in between',
    seed: [A],
    run: (db) =>
      rw(db, async () => {
        const seen: Promise<string | null>[] = [];
        const writes: Promise<unknown>[] = [];
        for (const title of ['v2', 'v3', 'v4']) {
          writes.push(db.cards.put(card('a', title)));
          seen.push(titleOf(db, 'a'));
        }
        await Promise.all(writes);
        return Promise.all(seen);
      }),
    expected: ['v2', 'v3', 'v4'],
  },
  {
    name: 'the app changes its object right after a put it did not await',
    run: (db) =>
      rw(db, async () => {
        const value = card('a', 'v1');
        const write = db.cards.put(value);
        value.title = 'changed after the put';
        await write;
        return titleOf(db, 'a');
      }),
    expected: 'v1',
  },
  {
    name: 'writes to two synced tables, then reads of both',
    run: (db) =>
      rw(db, () =>
        writeThenRead(
          () => Promise.all([db.cards.add(A), db.notes.add({ id: 'n', board: '1', text: 'hello' })]),
          async () => [await titleOf(db, 'a'), (await db.notes.get('n'))?.text ?? null],
        ),
      ),
    expected: ['v1', 'hello'],
  },
  {
    name: 'a write to one synced table, then a read of another that was written before',
    run: (db) =>
      rw(db, async () => {
        await db.notes.put({ id: 'n', board: '1', text: 'old' });
        return writeThenRead(
          () => db.notes.put({ id: 'n', board: '1', text: 'new' }),
          async () => [(await db.notes.get('n'))?.text ?? null, await db.cards.count()],
        );
      }),
    expected: ['new', 0],
  },
  {
    name: 'a failed add (existing key) that the app catches, then reads',
    seed: [A],
    run: (db) =>
      rw(db, async () => {
        const put = db.cards.put(B);
        const failed = db.cards.add(card('a', 'dup')).then(
          () => 'added',
          (e: unknown) => (e as Error).name,
        );
        const read = Promise.all([titleOf(db, 'a'), titleOf(db, 'b')]);
        await put;
        return [await failed, ...(await read)];
      }),
    expected: ['ConstraintError', 'v1', 'v1'],
  },
  {
    name: 'no explicit transaction: add, then get',
    run: (db) =>
      writeThenRead(
        () => db.cards.add(A),
        () => titleOf(db, 'a'),
      ),
    expected: 'v1',
  },
];
