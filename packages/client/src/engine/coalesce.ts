/**
 * Outbox coalescing (protocol 5): when a push batch is cut, each run of consecutive outbox
 * entries that edit one record collapses into one mutation covering their mids (`mid … midTo`).
 * The outbox itself stays a log of every write; this only changes what travels. Pure.
 *
 * Only consecutive entries merge: the server applies a push in mid order, and moving an edit
 * past another record's edit could let a reader that sees part of a push (a pull page, the change
 * feed) see a state the app never had (a card pointing at a board created after it). A run stops
 * at anything the rules below do not cover; what stops it is sent as it is.
 *
 * Two mutations merge only when they are of the same record (scope, collection, id), were made on
 * the same base version (a pull in between moved the base: the later one was judged against a
 * newer server state), belong to the same txn or both to none, and neither is a `restore`:
 * - put, then put → the later put; patch, then put → the put;
 * - put, then patch → put of the patched value;
 * - patch, then patch → one patch (`mergePatches`);
 * - put or patch, then delete → the delete (a delete wins over what came before it);
 * - inc, then inc of the same field, both whole numbers → one inc of their sum (exact, unlike
 *   fractions, whose sum could round differently from two additions);
 * - anything after a delete, inc with any other op, restore: no merge.
 */
import {
  applyPatch,
  asMid,
  checkEncodedRecord,
  type IncMutation,
  type Mutation,
  type PatchMutation,
  type PutMutation,
} from '@syncline/protocol';
import type { OutboxEntry } from '../store/schema.js';
import { mergePatches } from './merge-patches.js';

/** Whether `a` and `b` may share one mutation at all (before looking at their ops). */
function sameRun(a: Mutation, b: Mutation): boolean {
  return (
    a.scope === b.scope &&
    a.collection === b.collection &&
    a.id === b.id &&
    a.base === b.base &&
    a.txn === b.txn &&
    a.op !== 'restore' &&
    b.op !== 'restore'
  );
}

function wholeSum(a: IncMutation, b: IncMutation): number | undefined {
  const sum = a.by + b.by;
  return Number.isSafeInteger(a.by) && Number.isSafeInteger(b.by) && Number.isSafeInteger(sum)
    ? sum
    : undefined;
}

/** `put` with `value` on `acc`'s identity, or undefined when the value is not a valid record. */
function putOf(acc: Mutation, value: PutMutation['value']): Mutation | undefined {
  if (!checkEncodedRecord(value).ok) return undefined;
  return { ...identity(acc), op: 'put', value };
}

/** What a merged mutation keeps of the first one: mids, record, base, txn. */
function identity(acc: Mutation) {
  return {
    mid: acc.mid,
    scope: acc.scope,
    collection: acc.collection,
    id: acc.id,
    base: acc.base,
    ...(acc.txn !== undefined ? { txn: acc.txn } : {}),
    ...(acc.midTo !== undefined ? { midTo: acc.midTo } : {}),
  };
}

/**
 * One mutation with the effect of `acc` then `next` (same record, next in mid order), without
 * `midTo`'s update, or undefined when the rules do not cover the pair.
 */
export function mergeTwo(acc: Mutation, next: Mutation): Mutation | undefined {
  if (!sameRun(acc, next)) return undefined;
  switch (next.op) {
    case 'put':
      return acc.op === 'put' || acc.op === 'patch'
        ? { ...identity(acc), op: 'put', value: next.value }
        : undefined;
    case 'delete':
      return acc.op === 'put' || acc.op === 'patch' ? { ...identity(acc), op: 'delete' } : undefined;
    case 'patch':
      if (acc.op === 'put') {
        const out = applyPatch(acc.value, next.patch);
        return out.ok && out.value !== null ? putOf(acc, out.value) : undefined;
      }
      if (acc.op === 'patch') {
        const patch = mergePatches(acc.patch, next.patch);
        return patch ? ({ ...identity(acc), op: 'patch', patch } satisfies PatchMutation) : undefined;
      }
      return undefined;
    case 'inc': {
      if (acc.op !== 'inc' || acc.field !== next.field) return undefined;
      const by = wholeSum(acc, next);
      return by === undefined ? undefined : { ...identity(acc), op: 'inc', field: acc.field, by };
    }
    case 'restore':
      return undefined;
  }
}

/**
 * The mutations to push for a batch of outbox entries (consecutive mids, in order): each run of
 * entries the rules merge becomes one mutation with `midTo` = the run's last mid. `apart`: mids
 * that must start a mutation of their own: the server's last applied mid + 1 after
 * `mid_overlap` (so a resend never mixes mids the server applied with mids it did not), and
 * every mid of a coalesced mutation the server refused (`split_required`: each edit is judged
 * alone, so only the one the server refuses is refused).
 */
export function coalesce(entries: readonly OutboxEntry[], apart?: ReadonlySet<number>): Mutation[] {
  const out: Mutation[] = [];
  let acc: Mutation | undefined;
  for (const e of entries) {
    const starts = apart?.has(e.mid) ?? false;
    // A discarded entry is a `restore` placeholder (`discard.ts`): never merged.
    const merged = acc !== undefined && !starts ? mergeTwo(acc, e.mutation) : undefined;
    if (merged) {
      acc = { ...merged, midTo: asMid(e.mid) };
      continue;
    }
    if (acc) out.push(acc);
    acc = e.mutation;
  }
  if (acc) out.push(acc);
  return out;
}

/** The last mid of each pushed mutation that covers several, by its first mid (for settling). */
export function spansOf(mutations: readonly Mutation[]): ReadonlyMap<number, number> {
  const spans = new Map<number, number>();
  for (const m of mutations) if (m.midTo !== undefined) spans.set(m.mid, m.midTo);
  return spans;
}
