import { Dexie } from 'dexie';
import type {
  DBCore,
  DBCoreMutateRequest,
  DBCoreMutateResponse,
  DBCoreTable,
  DBCoreTransaction,
  Middleware,
} from 'dexie';
import { DEFAULT_LIMITS, syncError, type JsonObject, type Limits } from '@syncline/protocol';
import { claimOwnTransaction, transactionDurability } from './durability.js';
import { queueMutations } from './queue-mutations.js';
import { readBefore, readState, type Before } from './read-before.js';
import { SYNCLINE_TABLES, type OutboxEntry } from './schema.js';
import { SynclineError } from '../errors.js';
import { checkPaths, checkValue, idsOf, keysOf } from './write-checks.js';

/** How a synced table maps to the server. */
export interface SyncedTableConfig {
  /** The scope a record belongs to, from its value (e.g. `(card) => 'board:' + card.boardId`). */
  readonly scope: string | ((record: JsonObject) => string);
}

/** Per-transaction markers set by the sync engine and the txn API. */
export interface TxMarkers {
  /** Transactions that write server state (`LocalStore`): their writes are not queued. */
  readonly remote: WeakSet<DBCoreTransaction>;
  /** Transactions whose mutations share a txn id (all-or-nothing on the server). */
  readonly txn: WeakMap<DBCoreTransaction, string>;
}

export interface OutboxMiddlewareOptions {
  readonly tables: Readonly<Record<string, SyncedTableConfig>>;
  readonly markers: TxMarkers;
  readonly now: () => number;
  readonly limits?: Pick<Limits, 'maxDepth' | 'maxRecordBytes'>;
  /**
   * Called once a transaction that queued mutations has committed, in this tab, with the outbox
   * entries it added (in mid order; not to be changed). Other tabs' writes are seen through
   * Dexie's cross-tab change events; this is the short path that starts a push without waiting
   * for a live query to re-run, or for a read of the outbox.
   */
  readonly onQueued?: (entries: readonly OutboxEntry[]) => void;
}

const QUEUE_STORES = [SYNCLINE_TABLES.outbox, SYNCLINE_TABLES.records, SYNCLINE_TABLES.meta];

/**
 * The DBCore middleware that makes every write on a synced table queue a mutation in the same
 * IndexedDB transaction: read-write transactions touching a synced table are widened to the
 * outbox, record-meta and meta stores (strict durability unless the app asked for relaxed, see
 * `transactionDurability`; Syncline's own transactions keep exactly their stores and their
 * durability, see `claimOwnTransaction`), so no write is visible without being queued and none is queued
 * without being visible. Mids come from a counter row in the same transaction, so they stay
 * dense and ordered across tabs.
 *
 * The app's request keeps its place among the app's requests: it is placed on the transaction in
 * the tick the app issued it, like plain Dexie does, so a read the app places after a write it
 * did not await sees that write (IndexedDB runs a transaction's requests in the order they are
 * placed). What the queued mutation needs from before the write (the old values) is read by
 * requests placed just before it in that same tick; the outbox, record-meta and counter writes
 * follow, one write at a time per transaction, in the order the app issued its writes.
 */
export function createOutboxMiddleware(opts: OutboxMiddlewareOptions): Middleware<DBCore> {
  const synced = new Set(Object.keys(opts.tables));
  /** Per transaction that queued something: what it queued, in mid order. */
  const watched = new WeakMap<DBCoreTransaction, OutboxEntry[]>();
  const noteQueued = (trans: DBCoreTransaction, entries: readonly OutboxEntry[]) => {
    const known = watched.get(trans);
    if (known) known.push(...entries);
    else watched.set(trans, [...entries]);
  };
  /**
   * Hands what `trans` queued to `onQueued` once it commits. Listening from the transaction's
   * creation puts this listener before Dexie's own `oncomplete` (listeners run in the order they
   * were added), so the push goes out before the commit's change events and live queries run
   * (about 0.5 ms of a write's way to the server in Chromium).
   */
  const announce = (trans: DBCoreTransaction) => {
    const onQueued = opts.onQueued;
    if (!onQueued) return;
    // Dexie's DBCore transaction is the IndexedDB transaction itself.
    (trans as unknown as IDBTransaction).addEventListener(
      'complete',
      () => {
        const entries = watched.get(trans);
        if (entries) onQueued(entries);
      },
      { once: true },
    );
  };
  /** Per transaction: its last queued write (writes are queued one at a time, in app order). */
  const chains = new WeakMap<DBCoreTransaction, Promise<unknown>>();
  /** Per transaction: how many of its writes are being queued. */
  const queuing = new WeakMap<DBCoreTransaction, number>();
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  return {
    stack: 'dbcore',
    name: 'SynclineOutbox',
    level: 1,
    create(down) {
      return {
        ...down,
        transaction(stores, mode, options) {
          if (mode !== 'readwrite') return down.transaction(stores, mode, options);
          const own = claimOwnTransaction(down.schema.name, stores);
          if (own) return down.transaction(stores, mode, { ...options, durability: own });
          if (!stores.some((s) => synced.has(s))) return down.transaction(stores, mode, options);
          const trans = down.transaction([...new Set([...stores, ...QUEUE_STORES])], mode, {
            ...options,
            durability: transactionDurability(options?.durability),
          });
          announce(trans);
          return trans;
        },
        table(name) {
          const table = down.table(name);
          const config = opts.tables[name];
          if (!config) return table;
          return {
            ...table,
            mutate: (req) =>
              opts.markers.remote.has(req.trans) ? table.mutate(req) : queueWrite(down, table, config, req),
          };
        },
      };
    },
  };

  /*
   * Written as `.then` chains on DBCore promises on purpose: Dexie keeps its transaction zone
   * (PSD) across its own promise callbacks, but not across a native `await` inside middleware,
   * and the layers below (observability, cache) read that zone.
   */
  function queueWrite(
    core: DBCore,
    table: DBCoreTable,
    config: SyncedTableConfig,
    req: DBCoreMutateRequest,
  ): Promise<DBCoreMutateResponse> {
    const pk = table.schema.primaryKey;
    // createSyncClient refuses such tables; this only guards a schema changed after it.
    if (pk.outbound || !pk.keyPath) {
      return Dexie.Promise.reject(
        new SynclineError(syncError('invalid_message', `synced table "${table.name}" needs an inbound key`)),
      );
    }
    const keyPath = pk.keyPath;
    const trans = req.trans;
    // Refused before anything is placed: nothing is written, and the app's transaction goes on
    // if it catches the error (as with any failed Dexie request).
    let afters: (JsonObject | undefined)[];
    // The keys and record ids of an add, put or delete, worked out once (a range delete's come
    // from its read of the range).
    let keys: readonly unknown[] = [];
    let ids: string[] = [];
    try {
      if (req.type !== 'deleteRange') {
        keys = keysOf(req, keyPath);
        ids = idsOf(table.name, keys);
      }
      if (req.type === 'put') {
        // Key paths first: Dexie applies `{ __proto__: … }` as a prototype change, which the
        // value check would only report as a non-plain object.
        checkPaths(req.changeSpec);
        for (const spec of req.updates?.changeSpecs ?? []) checkPaths(spec);
      }
      // The values as stored now, in the wire encoding (a fresh copy: IndexedDB clones them when
      // the write is placed, and the app may change its objects before the mutation is built).
      afters = req.type === 'put' || req.type === 'add' ? req.values.map((v) => checkValue(v, limits)) : [];
    } catch (e) {
      return Dexie.Promise.reject(asError(e));
    }
    // Placed in this tick, in this order: the reads see the state just before the app's write.
    const before = readBefore(table, req, keyPath, keys, ids);
    before.catch(noop); // Reported through `queued` below, unless the write failed first.
    let written: Promise<DBCoreMutateResponse>;
    try {
      written = table.mutate(req);
    } catch (e) {
      written = Dexie.Promise.reject(asError(e));
    }
    // Nothing else of this transaction is being queued: Syncline's own state (which the app
    // cannot write) is read right away too, saving a round trip. Otherwise it is read in turn.
    const busy = queuing.get(trans) ?? 0;
    const state = busy === 0 && req.type !== 'deleteRange' ? readState(core, table, trans, ids) : undefined;
    state?.catch(noop);
    queuing.set(trans, busy + 1);
    const done = () => queuing.set(trans, (queuing.get(trans) ?? 1) - 1);
    /** Queues the mutations of the write once it is placed (`res` is its response). */
    const queueOne = (b: Before, res: DBCoreMutateResponse): Promise<unknown> => {
      // A range delete is one request: if it failed, nothing was deleted.
      if (req.type === 'deleteRange' && res.numFailures > 0) return Dexie.Promise.resolve();
      return (state ?? readState(core, table, trans, b.ids)).then((s) =>
        queueMutations({
          core,
          table,
          scope: config.scope,
          req,
          before: b,
          state: s,
          afters,
          res,
          txn: opts.markers.txn.get(trans),
          now: opts.now,
          onQueued: (entries) => noteQueued(trans, entries),
        }),
      );
    };
    const queued = (chains.get(trans) ?? Dexie.Promise.resolve())
      .catch(noop)
      .then(() => written)
      .then((res) =>
        // The app's write is in: if it cannot be queued, it must not commit either.
        before
          .then((b) => queueOne(b, res))
          .then(
            () => res,
            (e: unknown) => {
              abort(trans);
              throw e;
            },
          ),
      )
      .then(
        (res) => {
          done();
          return res;
        },
        (e: unknown) => {
          done();
          throw e;
        },
      );
    chains.set(trans, queued);
    return queued;
  }
}

/** Aborts a transaction whose write could not be queued (it may already be over). */
function abort(trans: DBCoreTransaction): void {
  try {
    // Dexie's DBCore transaction is the IndexedDB transaction itself.
    (trans as unknown as IDBTransaction).abort();
  } catch {
    // Already committed or aborted: nothing to undo.
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function noop(): void {}
