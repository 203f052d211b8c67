import { Dexie } from 'dexie';
import type { DBCore, DBCoreMutateRequest, DBCoreMutateResponse, DBCoreTable } from 'dexie';
import { decodeRecord, type JsonObject, type Mutation, type ScopeId } from '@syncline/protocol';
import { allocateMids, append, throwFailures } from './outbox.js';
import type { Before, QueueState } from './read-before.js';
import { queuedMeta } from './record-rows.js';
import { SYNCLINE_TABLES, type OutboxEntry, type RecordMeta } from './schema.js';
import type { KeyPath } from './synced-keys.js';
import { draftFromDiff, draftsFromChangeSpec, type MutationDraft } from './to-mutations.js';
import { scopeOf, wire } from './write-checks.js';

/** One write the outbox middleware placed, with what it read for it (see `read-before.ts`). */
export interface PlacedWrite {
  readonly core: DBCore;
  readonly table: DBCoreTable;
  /** The table's `scope` option. */
  readonly scope: string | ((record: JsonObject) => string);
  readonly req: DBCoreMutateRequest;
  readonly before: Before;
  readonly state: QueueState;
  /** The new values of a put or add, in the wire encoding (checked). */
  readonly afters: readonly (JsonObject | undefined)[];
  /** The write's response: keys that failed are not queued (nor a range delete that failed). */
  readonly res: DBCoreMutateResponse;
  /** The txn id of the transaction, if it is a txn. */
  readonly txn: string | undefined;
  readonly now: () => number;
  /** Called with the entries queued, before their writes are placed (not when none is). */
  readonly onQueued: (entries: readonly OutboxEntry[]) => void;
}

/**
 * Queues the mutations of a write placed on the transaction: its outbox entries (mids from the
 * counter), the counter, and for a record's first pending mutation its meta with the confirmed
 * copy (`queuedMeta`). Rejects when one of these writes failed.
 */
export function queueMutations(w: PlacedWrite): Promise<unknown> {
  const { req, res, table } = w;
  const { keys, ids, olds } = w.before;
  const failed = new Set(Object.keys(res.failures).map(Number));
  const planned: {
    readonly id: string;
    readonly base: number;
    readonly scope: ScopeId;
    readonly drafts: readonly MutationDraft[];
  }[] = [];
  const metas: RecordMeta[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (failed.has(i)) continue;
    const id = ids[i]!;
    const old = olds[i] === undefined ? undefined : wire(olds[i]);
    const after = w.afters[i];
    const prevMeta = w.state.metas[i];
    // A row without meta predates syncing and was never uploaded (see adopt-existing.ts): a
    // change to it is its adoption (a create of the new value); deleting it tells the server
    // nothing.
    const unadopted = prevMeta === undefined && old !== undefined;
    const drafts: MutationDraft[] = !unadopted
      ? draftsFor(req, old, after, table.schema.primaryKey.keyPath, i)
      : after !== undefined
        ? [{ op: 'put', value: after }]
        : [];
    if (drafts.length === 0) continue;
    // The scope function sees the app's value (Dates, binaries), as stored.
    const scope = (prevMeta?.scope ?? scopeOf(w.scope, decodeRecord(after ?? old!) as JsonObject)) as ScopeId;
    planned.push({ id, base: prevMeta?.version ?? 0, scope, drafts });
    const meta = queuedMeta({ table: table.name, id, scope }, prevMeta, old ?? null);
    if (meta) metas.push(meta);
  }
  const count = planned.reduce((n, p) => n + p.drafts.length, 0);
  if (count === 0) return Dexie.Promise.resolve(undefined);
  const mids = allocateMids(w.state.counter, count);
  let mid = mids.first;
  const entries: OutboxEntry[] = [];
  for (const p of planned) {
    for (const d of p.drafts) {
      entries.push({
        mid,
        table: table.name,
        key: p.id,
        createdAt: w.now(),
        mutation: {
          mid,
          scope: p.scope,
          collection: table.name,
          id: p.id,
          base: p.base,
          ...(w.txn !== undefined ? { txn: w.txn } : {}),
          ...d,
        } as Mutation,
      });
      mid++;
    }
  }
  w.onQueued(entries);
  const trans = req.trans;
  return Dexie.Promise.all([
    append(w.core, trans, entries, mids.next),
    metas.length > 0
      ? w.core.table(SYNCLINE_TABLES.records).mutate({ type: 'put', trans, values: metas })
      : undefined,
  ]).then(([, metaPut]) => throwFailures([metaPut]));
}

/** The mutation drafts of key `i` of a write, from its old and new values. */
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
