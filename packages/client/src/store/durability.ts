import { Dexie } from 'dexie';

/** IndexedDB's durability hint for a read-write transaction. */
export type Durability = 'strict' | 'relaxed';

/**
 * The Promise-Specific Data key (Dexie's documented `Dexie.Promise.PSD`) carrying the durability
 * of Syncline's own read-write transactions: `LocalStore` sets it, through
 * `withSynclineDurability`, around every transaction it opens. Transactions that only store
 * server state and the cursor covering it (pull pages, live changes) are relaxed: lost to a
 * power cut, they lose nothing the server does not have (cursor and data roll back together and
 * are pulled again). Push results, with their conflicts and rejections, are strict, whatever the
 * app chose for its own transactions.
 */
const DURABILITY_PSD_KEY = 'synclineDurability';

/** The part of Dexie's Promise-Specific Data API used here (documented, but not in its typings). */
const psdApi = Dexie.Promise as unknown as {
  readonly PSD?: Record<string, unknown>;
  newPSD<R>(fn: () => R, props: Record<string, unknown>): R;
};

/** Runs `fn` so that the read-write transactions it starts are Syncline's own, with `durability`. */
export function withSynclineDurability<R>(durability: Durability, fn: () => R): R {
  return psdApi.newPSD(fn, { [DURABILITY_PSD_KEY]: durability });
}

/**
 * The durability of a read-write transaction over a synced table. Syncline's own transactions
 * keep theirs. The app's are strict unless the app explicitly asked for `relaxed` (Dexie's
 * `chromeTransactionDurability` option, or a DBCore middleware above Syncline's): the write and
 * its outbox entry are in one transaction either way, so they commit or vanish together; relaxed
 * only means that a power cut may lose the last ones of both.
 */
export function transactionDurability(requested: string | undefined): Durability {
  const own = psdApi.PSD?.[DURABILITY_PSD_KEY];
  if (own === 'strict' || own === 'relaxed') return own;
  return requested === 'relaxed' ? 'relaxed' : 'strict';
}

/**
 * Whether a transaction opened now is one of Syncline's own (`LocalStore`'s): those name exactly
 * the stores they use, so the outbox middleware neither widens them to the outbox and meta stores
 * nor queues their writes. Keeping the live apply and the settle off the meta store (where the
 * leader's lease and the mid counter live) and the live apply off the outbox lets other tabs'
 * lease checks and the push read run beside them.
 */
export function isSynclineTransaction(): boolean {
  const own = psdApi.PSD?.[DURABILITY_PSD_KEY];
  return own === 'strict' || own === 'relaxed';
}
