import { Dexie } from 'dexie';

/** IndexedDB's durability hint for a read-write transaction. */
export type Durability = 'strict' | 'relaxed';

/*
 * Syncline's own read-write transactions (`LocalStore`'s) name exactly the stores they use, so
 * the outbox middleware neither widens them to the outbox and meta stores nor queues their
 * writes; keeping the live apply and the settle off the meta store (where the leader's lease and
 * the mid counter live) and the live apply off the outbox lets other tabs' lease checks and the
 * push read run beside them. Their durability is their own: transactions that only store server
 * state and the cursor covering it (pull pages, live changes) are relaxed (lost to a power cut,
 * they lose nothing the server does not have: cursor and data roll back together and are pulled
 * again); push results, with their conflicts and rejections, are strict, whatever the app chose.
 *
 * How the middleware tells them apart: `withSynclineDurability` records each one as it is asked
 * for, by its stores, and the middleware claims the record when Dexie creates the transaction
 * (a microtask later, in the order they were asked for). Not through Dexie's Promise-Specific
 * Data, as before: a transaction created inside a zone of our own runs its `complete` handler in
 * that zone, with Dexie's Promise installed as the global one, so every `liveQuery` the commit
 * woke re-ran a timer later (Dexie's `execInGlobalContext`: about 1.5 ms of each live change's
 * way to the app's query in Node), or, with the zone's Promise left native, ran the app's
 * subscribers inside Syncline's zone, where a write they made would pass for Syncline's own.
 */

interface Asked {
  /** The database's name and the stores, sorted (see `askKey`). */
  readonly key: string;
  readonly durability: Durability;
}

/** Syncline's transactions asked for and not created yet, oldest first. */
const asked: Asked[] = [];

/** One database (several may sync in one page) and one set of stores. */
const askKey = (db: string, stores: readonly string[]): string =>
  [db, ...[...new Set(stores)].sort()].join('\u0000');

/**
 * Runs `start`, which must ask Dexie for one read-write transaction over exactly `stores` of the
 * database named `db` (and return its promise), so that the transaction is Syncline's own, with
 * `durability`. Inside a transaction Dexie reuses that one and creates none: nothing is recorded
 * then.
 */
export function withSynclineDurability<R>(
  durability: Durability,
  db: string,
  stores: readonly string[],
  start: () => Promise<R>,
): Promise<R> {
  if (Dexie.currentTransaction) return start();
  const ask: Asked = { key: askKey(db, stores), durability };
  asked.push(ask);
  // Not created after all (the database closed, the scope threw first): forget it.
  const forget = () => {
    const i = asked.indexOf(ask);
    if (i >= 0) asked.splice(i, 1);
  };
  let run: Promise<R>;
  try {
    run = start();
  } catch (err) {
    forget();
    throw err;
  }
  run.then(forget, forget);
  return run;
}

/**
 * Called by the outbox middleware as a read-write transaction over `stores` of the database
 * named `db` is created: the durability of Syncline's own transaction over exactly these stores
 * of that database, asked for first, if any (the record is used up); `undefined` for any other.
 */
export function claimOwnTransaction(db: string, stores: readonly string[]): Durability | undefined {
  if (asked.length === 0) return undefined;
  const key = askKey(db, stores);
  const i = asked.findIndex((a) => a.key === key);
  return i < 0 ? undefined : asked.splice(i, 1)[0]!.durability;
}

/**
 * The durability of the app's read-write transaction over a synced table: strict unless the app
 * explicitly asked for `relaxed` (Dexie's `chromeTransactionDurability` option, or a DBCore
 * middleware above Syncline's). The write and its outbox entry are in one transaction either
 * way, so they commit or vanish together; relaxed only means that a power cut may lose the last
 * ones of both.
 */
export function transactionDurability(requested: string | undefined): Durability {
  return requested === 'relaxed' ? 'relaxed' : 'strict';
}
