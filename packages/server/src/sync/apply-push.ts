import {
  checkEncodedRecord,
  decodeRecord,
  inspectJson,
  lastMidOf,
  syncError,
  type ClientId,
  type JsonObject,
  type Limits,
  type Mutation,
  type MutationResult,
  type ScopeId,
  type SyncError,
} from '@syncline/protocol';
import type { StorageTx, StoredHistoryEntry, StoredRecord, SyncStorage } from '../storage/storage.js';
import { collectionConfig, type CollectionsConfig } from './collections.js';
import { decide, type Decision } from './decide.js';
import { refusedCoalesced, SplitRequired } from './coalesced-refusal.js';
import { groupByTxn, prefetch } from './push-plan.js';
import { writeChange } from './write-change.js';
import { toRecordState } from './wire-change.js';

export interface PushContext {
  readonly clientId: ClientId;
  readonly userId: string;
  /** Server time for this commit, ms since the epoch. */
  readonly now: number;
  readonly collections: CollectionsConfig;
  readonly limits: Pick<Limits, 'maxRecordBytes' | 'maxDepth'>;
  /** May this principal push to this scope? */
  readonly canPush: (scope: ScopeId) => boolean | Promise<boolean>;
}

export type PushOutcome =
  | {
      readonly ok: true;
      readonly results: MutationResult[];
      /** The committed changes (history entries), in commit order. */
      readonly committed: StoredHistoryEntry[];
    }
  | { readonly ok: false; readonly error: SyncError };

/** Thrown inside a txn's savepoint to undo it; carries the result that aborted it. */
class TxnAbort extends Error {
  constructor(
    readonly index: number,
    readonly result: MutationResult,
  ) {
    super('txn aborted');
  }
}

/**
 * Applies a validated push in one storage transaction, in order, exactly once per
 * (client id, mid): a mid at or below the client's last is a duplicate; a first mid above
 * last + 1 refuses the whole push (`mid_gap`); a rejected mutation still advances the client's
 * last mid, so one bad mutation never blocks the queue. Mutations sharing a `txn` commit
 * all-or-nothing inside a savepoint. Returns the committed changes for fan-out.
 *
 * A coalesced mutation (protocol 5) covers `mid … midTo` as one: a duplicate when `midTo` is at
 * or below the client's last mid, fresh when `mid` is above it, and a push holding one that
 * straddles it is refused whole (`mid_overlap`): its applied part cannot be taken out of it. A
 * coalesced mutation the server rejects undoes the whole push (`split_required`), so the client
 * can send its edits one by one and only the bad one is refused.
 */
export async function applyPush(
  storage: SyncStorage,
  ctx: PushContext,
  mutations: readonly Mutation[],
  /** Receives the committed changes right after the commit, in commit order (for fan-out). */
  onCommit?: (committed: readonly StoredHistoryEntry[]) => void,
): Promise<PushOutcome> {
  try {
    return await applyInTransaction(storage, ctx, mutations, onCommit);
  } catch (err) {
    if (!(err instanceof SplitRequired)) throw err;
    return { ok: false, error: err.error };
  }
}

function applyInTransaction(
  storage: SyncStorage,
  ctx: PushContext,
  mutations: readonly Mutation[],
  onCommit?: (committed: readonly StoredHistoryEntry[]) => void,
): Promise<PushOutcome> {
  return storage.transaction<PushOutcome>(
    async (tx) => {
      // The records are read ahead with the client row (one round trip where the backend
      // pipelines); a duplicate's record is read for nothing, which only a resend costs.
      const [client] = await Promise.all([
        tx.getClient(ctx.clientId),
        prefetch(tx, mutations, 0, ctx.clientId),
      ]);
      // The first push binds the client id (connecting does not); another user's id is refused.
      if (client && client.userId !== ctx.userId) {
        return {
          ok: false,
          error: syncError('client_id_mismatch', 'this client id belongs to another user'),
        };
      }
      const lastMid = client?.lastMid ?? 0;
      const first = mutations[0]!.mid;
      if (first > lastMid + 1) {
        return {
          ok: false,
          error: syncError('mid_gap', `mid ${first} follows ${lastMid}; resend from ${lastMid + 1}`, {
            expectedMid: lastMid + 1,
          }),
        };
      }
      const straddling = mutations.find((m) => m.mid <= lastMid && lastMidOf(m) > lastMid);
      if (straddling) {
        return {
          ok: false,
          error: syncError(
            'mid_overlap',
            `mids ${straddling.mid}-${lastMidOf(straddling)} straddle the last applied mid ${lastMid}; ` +
              `resend from ${lastMid + 1} without coalescing across it`,
            { expectedMid: lastMid + 1 },
          ),
        };
      }
      const results: MutationResult[] = [];
      const committed: StoredHistoryEntry[] = [];
      for (const group of groupByTxn(mutations)) {
        const fresh = group.filter((m) => m.mid > lastMid);
        for (const m of group) if (m.mid <= lastMid) results.push({ mid: m.mid, status: 'duplicate' });
        if (fresh.length === 0) continue;
        if (fresh.length === 1 && fresh[0]!.txn === undefined) {
          results.push(await applyOne(tx, ctx, fresh[0]!, committed));
          continue;
        }
        results.push(...(await applyTxn(tx, ctx, fresh, committed)));
      }
      const refused = refusedCoalesced(mutations, results);
      if (refused) throw new SplitRequired(refused);
      const newLast = Math.max(lastMid, lastMidOf(mutations[mutations.length - 1]!));
      await tx.putClient({ clientId: ctx.clientId, userId: ctx.userId, lastMid: newLast });
      return { ok: true, results, committed };
    },
    (outcome) => {
      if (outcome.ok && outcome.committed.length > 0) onCommit?.(outcome.committed);
    },
    { scopes: [...new Set(mutations.map((m) => m.scope))] },
  );
}

async function applyTxn(
  tx: StorageTx,
  ctx: PushContext,
  group: readonly Mutation[],
  committed: StoredHistoryEntry[],
): Promise<MutationResult[]> {
  const staged: StoredHistoryEntry[] = [];
  try {
    const results = await tx.savepoint(async () => {
      const out: MutationResult[] = [];
      for (let i = 0; i < group.length; i++) {
        const r = await applyOne(tx, ctx, group[i]!, staged);
        // A member resolved as "delete wins" does not abort: the txn serializes before the
        // concurrent delete, so it is still all-or-nothing in that order.
        if (r.status === 'rejected' || r.status === 'conflict') throw new TxnAbort(i, r);
        out.push(r);
      }
      return out;
    });
    committed.push(...staged);
    return results;
  } catch (err) {
    if (!(err instanceof TxnAbort)) throw err;
    const reason = err.result.status === 'rejected' ? err.result.error.code : 'conflict';
    return group.map((m, i) =>
      i === err.index
        ? err.result
        : {
            mid: m.mid,
            status: 'rejected' as const,
            error: syncError('txn_aborted', `txn "${m.txn}" aborted: mid ${group[err.index]!.mid} ${reason}`),
          },
    );
  }
}

/** True when someone other than this client changed the record after `base`. */
async function isConcurrent(tx: StorageTx, ctx: PushContext, m: Mutation, current: StoredRecord | undefined) {
  const currentVersion = current?.version ?? 0;
  if (currentVersion === m.base) return false;
  const writes = await tx.writesAfter(m.scope, m.collection, m.id, m.base, ctx.clientId);
  // If history no longer reaches back to base (retention), assume another writer.
  return !writes.reaches || writes.others;
}

async function applyOne(
  tx: StorageTx,
  ctx: PushContext,
  m: Mutation,
  committed: StoredHistoryEntry[],
): Promise<MutationResult> {
  const rejected = (error: SyncError): MutationResult => ({ mid: m.mid, status: 'rejected', error });
  if (!(await ctx.canPush(m.scope))) {
    return rejected(syncError('forbidden', `no push access to scope "${m.scope}"`));
  }
  const config = collectionConfig(ctx.collections, m.collection);
  const current = await tx.getRecord(m.scope, m.collection, m.id);
  const currentValue = current?.value ?? null;

  let decision: Decision;
  let restoredFrom: number | null = null;
  let base: JsonObject | null | undefined;
  if (m.op === 'restore') {
    const entry = await tx.getHistoryEntry(m.scope, m.collection, m.id, m.version);
    if (!entry)
      return rejected(syncError('version_not_found', `version ${m.version} is not in this record's history`));
    decision = { kind: 'write', value: entry.value };
    restoredFrom = m.version;
  } else {
    const concurrent = await isConcurrent(tx, ctx, m, current);
    const baseEntry =
      concurrent && m.base > 0 ? await tx.getHistoryEntry(m.scope, m.collection, m.id, m.base) : undefined;
    base = m.base === 0 ? null : baseEntry?.value;
    decision = await decide({
      mutation: m,
      config,
      current: currentValue,
      concurrent,
      base,
      userId: ctx.userId,
    });
  }

  switch (decision.kind) {
    case 'reject':
      return rejected(decision.error);
    case 'conflict':
    case 'keep': {
      // The client's copy is stale: answer with the current record (a deleted one if none).
      const record = current ?? tombstoneOf(m);
      return decision.kind === 'conflict'
        ? {
            mid: m.mid,
            status: 'conflict',
            record: toRecordState(record),
            ...(base !== undefined ? { base } : {}),
          }
        : { mid: m.mid, status: 'merged', strategy: decision.strategy, record: toRecordState(record) };
    }
    case 'write': {
      const problem = await checkValue(ctx, m, decision.value, currentValue);
      if (problem) return rejected(problem);
      const record = await writeChange(tx, {
        mutation: m,
        value: decision.value,
        prevVersion: current?.version ?? 0,
        clientId: ctx.clientId,
        userId: ctx.userId,
        now: ctx.now,
        conflict: decision.resolved ?? null,
        restoredFrom,
      });
      committed.push(record);
      return decision.resolved
        ? {
            mid: m.mid,
            status: 'merged',
            strategy: decision.resolved.strategy,
            record: toRecordState(record),
          }
        : { mid: m.mid, status: 'applied', version: record.version };
    }
  }
}

function tombstoneOf(m: Mutation): StoredRecord {
  return {
    scope: m.scope,
    collection: m.collection,
    id: m.id,
    version: 0 as StoredRecord['version'],
    value: null,
    clientId: null,
    mid: null,
    updatedAt: 0,
  };
}

async function checkValue(
  ctx: PushContext,
  m: Mutation,
  value: JsonObject | null,
  previous: JsonObject | null,
): Promise<SyncError | undefined> {
  if (value === null) return undefined;
  const size = inspectJson(value, { maxDepth: ctx.limits.maxDepth, maxBytes: ctx.limits.maxRecordBytes });
  if (!size.ok) {
    return syncError(
      size.code === 'payload_too_large' ? 'record_too_large' : size.code,
      `resulting record: ${size.message}`,
    );
  }
  // A patch or inc can reach inside a tag (`when.x` on a Date): the result must still decode.
  // Other results cannot break one (put values were checked with the push, merges keep tags
  // whole, a resolver's value is encoded by the server), so only these walk the value again.
  if (m.op === 'patch' || m.op === 'inc') {
    const encoding = checkEncodedRecord(value);
    if (!encoding.ok)
      return syncError(encoding.code, `resulting record: ${encoding.message} at ${encoding.path}`);
  }
  const validate = collectionConfig(ctx.collections, m.collection).validate;
  if (!validate) return undefined;
  try {
    // Hooks see the app's types (Date, Uint8Array, ArrayBuffer), as the app wrote them.
    const message = await validate(decodeRecord(value), {
      scope: m.scope,
      collection: m.collection,
      id: m.id,
      userId: ctx.userId,
      previous: previous === null ? null : decodeRecord(previous),
    });
    return message === undefined ? undefined : syncError('validation_failed', message);
  } catch (err) {
    return syncError('validation_failed', `validation hook failed: ${(err as Error).message}`);
  }
}
