import { Dexie } from 'dexie';
import type {
  DBCore,
  DBCoreMutateRequest,
  DBCoreMutateResponse,
  DBCoreTable,
  DBCoreTransaction,
  Middleware,
} from 'dexie';
import {
  DEFAULT_LIMITS,
  decodeRecord,
  encodeRecord,
  FORBIDDEN_KEYS,
  inspectJson,
  type JsonObject,
  type Limits,
  type Mutation,
  type ScopeId,
  type ErrorCode,
  type SyncError,
  syncError,
} from '@syncline/protocol';
import { SynclineError } from '../errors.js';
import { transactionDurability } from './durability.js';
import { T, type MetaRow, type OutboxEntry, type RecordMeta } from './schema.js';
import { recordIdOf, type KeyPath } from './synced-keys.js';
import { draftFromDiff, draftsFromChangeSpec, type MutationDraft } from './to-mutations.js';

/** How a synced table maps to the server. */
export interface SyncedTableConfig {
  /** The scope a record belongs to, from its value (e.g. `(card) => 'board:' + card.boardId`). */
  readonly scope: string | ((record: JsonObject) => string);
}

/**
 * A local write refused before it was stored (the same checks the server would make) rejects
 * with `SynclineError`, its code one of the protocol's.
 * @deprecated Use `SynclineError`: this is the same class under its former name.
 */
export const SynclineWriteError: new (error: SyncError) => SynclineError<ErrorCode> = SynclineError;
/** @deprecated Use `SynclineError` (see the value of the same name). */
export type SynclineWriteError = SynclineError<ErrorCode>;

/** Per-transaction markers set by the sync engine and the txn API. */
export interface TxMarkers {
  /** Transactions that apply server state: their writes are not queued. */
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
   * Called once a transaction that queued mutations has committed, in this tab. (Other tabs'
   * writes are seen through Dexie's cross-tab change events; this is the short path that
   * starts a push without waiting for a live query to re-run.)
   */
  readonly onQueued?: (lastMid: number) => void;
}

const QUEUE_STORES = [T.outbox, T.records, T.meta];

/**
 * The DBCore middleware that makes every write on a synced table queue a mutation in the same
 * IndexedDB transaction: read-write transactions touching a synced table are widened to the
 * outbox, record-meta and meta stores (strict durability unless the app asked for relaxed, see
 * `transactionDurability`), so no write is visible without being queued and none is queued
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
  /** Per transaction that queued something: the highest mid it queued. */
  const watched = new WeakMap<DBCoreTransaction, number>();
  const onCommitted = (trans: DBCoreTransaction, lastMid: number) => {
    const onQueued = opts.onQueued;
    if (!onQueued) return;
    const known = watched.get(trans);
    watched.set(trans, Math.max(known ?? 0, lastMid));
    if (known !== undefined) return;
    // Dexie's DBCore transaction is the IndexedDB transaction itself.
    (trans as unknown as IDBTransaction).addEventListener('complete', () => onQueued(watched.get(trans)!), {
      once: true,
    });
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
          if (mode === 'readwrite' && stores.some((s) => synced.has(s))) {
            const widened = [...new Set([...stores, ...QUEUE_STORES])];
            return down.transaction(widened, mode, {
              ...options,
              durability: transactionDurability(options?.durability),
            });
          }
          return down.transaction(stores, mode, options);
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
        new SynclineWriteError(
          syncError('invalid_message', `synced table "${table.name}" needs an inbound key`),
        ),
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
      afters = req.type === 'put' || req.type === 'add' ? req.values.map(check) : [];
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
    const queued = (chains.get(trans) ?? Dexie.Promise.resolve())
      .catch(noop)
      .then(() => written)
      .then((res) =>
        // The app's write is in: if it cannot be queued, it must not commit either.
        before
          .then((b) => queue(core, table, config, req, b, state, afters, res))
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

  /** Queues the mutations for a write placed on the transaction (`res` is its response). */
  function queue(
    core: DBCore,
    table: DBCoreTable,
    config: SyncedTableConfig,
    req: DBCoreMutateRequest,
    { keys, ids, olds }: Before,
    state: Promise<[unknown[], unknown]> | undefined,
    afters: readonly (JsonObject | undefined)[],
    res: DBCoreMutateResponse,
  ): Promise<unknown> {
    // A range delete is one request: if it failed, nothing was deleted.
    if (req.type === 'deleteRange' && res.numFailures > 0) return Dexie.Promise.resolve();
    const trans = req.trans;
    const meta = core.table(T.meta);
    const records = core.table(T.records);
    const outbox = core.table(T.outbox);
    const failed = new Set(Object.keys(res.failures).map(Number));
    return (state ?? readState(core, table, trans, ids)).then(([prevMetas, counter]) => {
      let nextMid =
        typeof (counter as MetaRow | undefined)?.value === 'number'
          ? ((counter as MetaRow).value as number)
          : 1;
      const entries: OutboxEntry[] = [];
      const metas: RecordMeta[] = [];
      const txn = opts.markers.txn.get(trans);
      for (let i = 0; i < keys.length; i++) {
        if (failed.has(i)) continue;
        const key = ids[i]!;
        const old = olds[i] === undefined ? undefined : wire(olds[i]);
        const after = afters[i];
        const prevMeta = prevMetas[i] as RecordMeta | undefined;
        // A row without meta predates syncing and was never uploaded (see adopt-existing.ts):
        // a change to it is its adoption (a create of the new value); deleting it tells the
        // server nothing.
        const unadopted = prevMeta === undefined && old !== undefined;
        const drafts: MutationDraft[] = !unadopted
          ? draftsFor(req, old, after, table.schema.primaryKey.keyPath, i)
          : after !== undefined
            ? [{ op: 'put', value: after }]
            : [];
        if (drafts.length === 0) continue;
        // The scope function sees the app's value (Dates, binaries), as stored.
        const scope = (prevMeta?.scope ??
          scopeOf(config, decodeRecord(after ?? old!) as JsonObject)) as ScopeId;
        for (const d of drafts) {
          entries.push({
            mid: nextMid,
            table: table.name,
            key,
            createdAt: opts.now(),
            mutation: {
              mid: nextMid,
              scope,
              collection: table.name,
              id: key,
              base: prevMeta?.version ?? 0,
              ...(txn !== undefined ? { txn } : {}),
              ...d,
            } as Mutation,
          });
          nextMid++;
        }
        // First pending change on this record: keep the confirmed value it is replayed on.
        // (A record that already has pending changes keeps its meta as it is: no write.)
        if (prevMeta?.confirmed === undefined)
          metas.push({
            table: table.name,
            id: key,
            scope,
            version: prevMeta?.version ?? 0,
            includedMid: prevMeta?.includedMid ?? 0,
            confirmed: old ?? null,
          });
      }
      if (entries.length === 0) return undefined;
      onCommitted(trans, nextMid - 1);
      return Dexie.Promise.all([
        outbox.mutate({ type: 'add', trans, values: entries }),
        metas.length > 0 ? records.mutate({ type: 'put', trans, values: metas }) : undefined,
        meta.mutate({ type: 'put', trans, values: [{ key: 'nextMid', value: nextMid }] }),
      ]).then(throwFailures);
    });
  }

  /** The value in the wire encoding (`Date` and binaries tagged), checked against the limits. */
  function check(value: unknown): JsonObject {
    const encoded = wire(value);
    const r = inspectJson(encoded, { maxDepth: limits.maxDepth, maxBytes: limits.maxRecordBytes });
    if (!r.ok) {
      const code = r.code === 'payload_too_large' ? 'record_too_large' : r.code;
      throw new SynclineWriteError(syncError(code, `${r.message} at ${r.path}`));
    }
    return encoded;
  }
}

/** A record in the wire encoding, or the write refused (a value that cannot be synced). */
function wire(value: unknown): JsonObject {
  // The depth here only guards against cycles; `check` applies the configured limit after.
  const r = encodeRecord(value, 1000);
  if (!r.ok) throw new SynclineWriteError(syncError(r.code, `${r.message} at ${r.path}`));
  return r.value;
}

/** Refuses update key paths with a `__proto__`/`constructor`/`prototype` segment. */
function checkPaths(spec: Readonly<Record<string, unknown>> | false | undefined): void {
  for (const path of Object.keys(spec || {})) {
    const bad = path.split('.').find((seg) => FORBIDDEN_KEYS.has(seg));
    if (bad !== undefined) {
      throw new SynclineWriteError(
        syncError('forbidden_key', `forbidden key "${bad}" in key path "${path}"`),
      );
    }
  }
}

function scopeOf(config: SyncedTableConfig, value: JsonObject | undefined): string {
  if (typeof config.scope === 'string') return config.scope;
  if (value === undefined)
    throw new SynclineWriteError(syncError('invalid_message', 'cannot tell the scope of a missing record'));
  return config.scope(value);
}

/** The primary keys of an add, put or delete, in request order. */
function keysOf(req: DBCoreMutateRequest, keyPath: KeyPath): readonly unknown[] {
  if (req.type === 'delete') return req.keys;
  if (req.type === 'deleteRange') return [];
  return (
    req.keys ?? req.values.map((v): unknown => Dexie.getByKeyPath(v as object, keyPath as string | string[]))
  );
}

/**
 * The record ids of `keys` (see `encodeRecordKey`), or the write refused: the server would refuse
 * the push, and refusing the write keeps it out of the outbox.
 */
function idsOf(table: string, keys: readonly unknown[]): string[] {
  return keys.map((key) => {
    const id = recordIdOf(key);
    if (!id.ok) throw new SynclineWriteError(syncError('invalid_message', `${table}: ${id.message}`));
    return id.value;
  });
}

/** What a write needs from before it: the keys it touches, their record ids and values then. */
interface Before {
  readonly keys: readonly unknown[];
  readonly ids: readonly string[];
  readonly olds: readonly (JsonObject | undefined)[];
}

/**
 * Places the reads of what a write needs from before it (call right before placing the write).
 * `keys`/`ids` are those of an add, put or delete; a range delete reads its own.
 */
function readBefore(
  table: DBCoreTable,
  req: DBCoreMutateRequest,
  keyPath: KeyPath,
  keys: readonly unknown[],
  ids: readonly string[],
): Promise<Before> {
  const trans = req.trans;
  switch (req.type) {
    case 'add':
      // An add that succeeds had nothing there: no read needed.
      return Dexie.Promise.resolve({ keys, ids, olds: keys.map(() => undefined) });
    case 'put':
    case 'delete':
      return table
        .getMany({ trans, keys: [...keys] })
        .then((olds) => ({ keys, ids, olds: olds as (JsonObject | undefined)[] }));
    case 'deleteRange':
      return table
        .query({ trans, values: true, query: { index: table.schema.primaryKey, range: req.range } })
        .then(({ result }) => {
          const rangeKeys = (result as object[]).map((v): unknown =>
            Dexie.getByKeyPath(v, keyPath as string | string[]),
          );
          return { keys: rangeKeys, ids: idsOf(table.name, rangeKeys), olds: result as JsonObject[] };
        });
  }
}

/** Places the reads of Syncline's state for a write: the records' meta and the mid counter. */
function readState(
  core: DBCore,
  table: DBCoreTable,
  trans: DBCoreTransaction,
  ids: readonly string[],
): Promise<[unknown[], unknown]> {
  return Dexie.Promise.all([
    core.table(T.records).getMany({ trans, keys: ids.map((id) => [table.name, id]) }),
    core.table(T.meta).get({ trans, key: 'nextMid' }),
  ]);
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

/** Syncline's own writes must not fail quietly (DBCore reports failed requests as data). */
function throwFailures(responses: readonly (DBCoreMutateResponse | undefined)[]): void {
  for (const r of responses) {
    if (r === undefined || r.numFailures === 0) continue;
    const first: unknown = Object.values(r.failures)[0];
    throw first instanceof Error ? first : new Error('Syncline could not queue the write');
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function noop(): void {}

function draftsFor(
  req: DBCoreMutateRequest,
  old: JsonObject | undefined,
  after: JsonObject | undefined,
  keyPath: KeyPath,
  i: number,
): MutationDraft[] {
  if (req.type === 'delete' || req.type === 'deleteRange') return old === undefined ? [] : [{ op: 'delete' }];
  if (after === undefined) return [];
  if (old !== undefined && req.type === 'put') {
    const spec = req.updates?.changeSpecs[i] ?? (req.changeSpec || undefined);
    if (spec) return draftsFromChangeSpec(spec, old, after, keyPath);
    // modify(fn): Dexie passes criteria/changeSpec keys but no spec; diff old and new.
    if ('changeSpec' in req || 'criteria' in req) return draftFromDiff(old, after, keyPath);
  }
  return [{ op: 'put', value: after }];
}
