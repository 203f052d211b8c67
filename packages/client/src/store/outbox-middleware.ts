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
  encodeRecord,
  FORBIDDEN_KEYS,
  inspectJson,
  type JsonObject,
  type Limits,
  type Mutation,
  type ScopeId,
  type SyncError,
  syncError,
} from '@syncline/protocol';
import { T, type MetaRow, type OutboxEntry, type RecordMeta } from './schema.js';
import { recordIdOf, type KeyPath } from './synced-keys.js';
import { draftFromDiff, draftsFromChangeSpec, type MutationDraft } from './to-mutations.js';

/** How a synced table maps to the server. */
export interface SyncedTableConfig {
  /** The scope a record belongs to, from its value (e.g. `(card) => 'board:' + card.boardId`). */
  readonly scope: string | ((record: JsonObject) => string);
}

/** A local write refused before it was stored (the same checks the server would make). */
export class SynclineWriteError extends Error {
  constructor(readonly error: SyncError) {
    super(`${error.code}: ${error.message}`);
    this.name = 'SynclineWriteError';
  }
}

/** Per-transaction markers set by the sync engine and the txn API. */
export interface TxMarkers {
  /** Transactions that apply server state: their writes are not queued. */
  readonly remote: WeakSet<DBCoreTransaction>;
  /** Transactions whose mutations share a txn id (all-or-nothing on the server). */
  readonly txn: WeakMap<DBCoreTransaction, string>;
}

/**
 * The Promise-Specific Data key (Dexie's documented `Dexie.Promise.PSD`) that asks for a relaxed
 * read-write transaction: set by `LocalStore`, through `withRelaxedDurability`, around
 * transactions that only store server state and the cursor covering it (pull pages, live
 * changes). Such a transaction lost to a power cut
 * loses nothing the server does not have: cursor and data roll back together and are pulled
 * again. Everything else (local writes, push results with their conflicts and rejections) stays
 * strict.
 */
const RELAXED_PSD_KEY = 'synclineRelaxed';

/** The part of Dexie's Promise-Specific Data API used here (documented, but not in its typings). */
const psdApi = Dexie.Promise as unknown as {
  readonly PSD?: Record<string, unknown>;
  newPSD<R>(fn: () => R, props: Record<string, unknown>): R;
};

/** Runs `fn` so that the read-write transactions it starts are relaxed (see `RELAXED_PSD_KEY`). */
export function withRelaxedDurability<R>(fn: () => R): R {
  return psdApi.newPSD(fn, { [RELAXED_PSD_KEY]: true });
}

function relaxedRequested(): boolean {
  return psdApi.PSD?.[RELAXED_PSD_KEY] === true;
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
 * outbox, record-meta and meta stores and opened with strict durability, so no write is visible
 * without being queued and none is queued without being visible. Mids come from a counter row
 * in the same transaction, so they stay dense and ordered across tabs.
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
              durability: relaxedRequested() ? 'relaxed' : 'strict',
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
   * Written as a `.then` chain on DBCore promises on purpose: Dexie keeps its transaction zone
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
    const meta = core.table(T.meta);
    const records = core.table(T.records);
    const outbox = core.table(T.outbox);
    let keys: unknown[] = [];
    /** Record ids of `keys` (see `encodeRecordKey`), and the values written, in the wire encoding. */
    let ids: string[] = [];
    let afters: JsonObject[] = [];
    let olds: (JsonObject | undefined)[] = [];
    let res: DBCoreMutateResponse;
    return affectedKeys(table, req, keyPath)
      .then((k) => {
        keys = k;
        // The server would refuse the push; refusing the write keeps it out of the outbox.
        ids = keys.map((key) => {
          const id = recordIdOf(key);
          if (!id.ok)
            throw new SynclineWriteError(syncError('invalid_message', `${table.name}: ${id.message}`));
          return id.value;
        });
        if (req.type === 'put') {
          // Key paths first: Dexie applies `{ __proto__: … }` as a prototype change, which the
          // value check would only report as a non-plain object.
          checkPaths(req.changeSpec);
          for (const spec of req.updates?.changeSpecs ?? []) checkPaths(spec);
        }
        if (req.type === 'put' || req.type === 'add') afters = req.values.map(check);
        // Placed together: IndexedDB runs a transaction's requests in the order they are placed,
        // so the reads still see the state before the app's write, without a round trip each.
        return Dexie.Promise.all([
          table.getMany({ trans, keys }),
          records.getMany({ trans, keys: ids.map((id) => [table.name, id]) }),
          meta.get({ trans, key: 'nextMid' }),
          table.mutate(req),
        ]);
      })
      .then(([o, prevMetas, counter, r]: [unknown[], unknown[], unknown, DBCoreMutateResponse]) => {
        olds = o as (JsonObject | undefined)[];
        res = r;
        const failed = new Set(Object.keys(res.failures).map(Number));
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
          const drafts = draftsFor(req, old, after, keyPath, i);
          if (drafts.length === 0) continue;
          const prevMeta = prevMetas[i] as RecordMeta | undefined;
          const native = (req.type === 'put' || req.type === 'add' ? req.values[i] : olds[i]) as JsonObject;
          const scope = (prevMeta?.scope ?? scopeOf(config, native)) as ScopeId;
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
        if (entries.length === 0) return res;
        onCommitted(trans, nextMid - 1);
        return Dexie.Promise.all([
          outbox.mutate({ type: 'add', trans, values: entries }),
          metas.length > 0 ? records.mutate({ type: 'put', trans, values: metas }) : undefined,
          meta.mutate({ type: 'put', trans, values: [{ key: 'nextMid', value: nextMid }] }),
        ]).then(() => res);
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

/** The primary keys a request touches, in request order. */
function affectedKeys(table: DBCoreTable, req: DBCoreMutateRequest, keyPath: KeyPath): Promise<unknown[]> {
  switch (req.type) {
    case 'add':
    case 'put':
      return Dexie.Promise.resolve(
        req.keys ??
          req.values.map((v): unknown => Dexie.getByKeyPath(v as object, keyPath as string | string[])),
      );
    case 'delete':
      if (req.keys.length > 0 || !req.criteria) return Dexie.Promise.resolve(req.keys);
      return queryKeys(table, req.trans, req.criteria.range, req.criteria.index);
    case 'deleteRange':
      return queryKeys(table, req.trans, req.range, null);
  }
}

function queryKeys(
  table: DBCoreTable,
  trans: DBCoreTransaction,
  range: Parameters<DBCoreTable['query']>[0]['query']['range'],
  index: string | null,
): Promise<unknown[]> {
  const idx =
    index === null
      ? table.schema.primaryKey
      : (table.schema.getIndexByKeyPath(index) ?? table.schema.primaryKey);
  return table
    .query({ trans, values: false, query: { index: idx, range } })
    .then((res) => res.result as unknown[]);
}

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
