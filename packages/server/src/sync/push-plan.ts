import type { ClientId, Mutation } from '@syncline/protocol';
import type { PrefetchKey, StorageTx } from '../storage/storage.js';

/**
 * How `applyPush` walks a push before and while applying it: the records it will read, fetched
 * ahead in one go, and the runs of mutations that share a `txn` (applied all-or-nothing).
 */

/**
 * Reads the records of a push's fresh mutations ahead, in one go where the backend can, with
 * who wrote each after the version its mutation is based on (what the conflict check asks).
 */
export async function prefetch(
  tx: StorageTx,
  mutations: readonly Mutation[],
  lastMid: number,
  clientId: ClientId,
): Promise<void> {
  if (!tx.prefetchRecords) return;
  const keys = new Map<string, PrefetchKey>();
  for (const m of mutations) {
    if (m.mid <= lastMid) continue;
    const key = `${m.scope}\u0000${m.collection}\u0000${m.id}`;
    if (m.op === 'restore') {
      if (!keys.has(key)) keys.set(key, { scope: m.scope, collection: m.collection, id: m.id });
      continue;
    }
    keys.set(`${key}\u0000${m.base}`, { scope: m.scope, collection: m.collection, id: m.id, base: m.base });
  }
  if (keys.size > 0) await tx.prefetchRecords([...keys.values()], clientId);
}

/** Consecutive mutations sharing a `txn` form one group; any other mutation is a group of its own. */
export function groupByTxn(mutations: readonly Mutation[]): Mutation[][] {
  const groups: Mutation[][] = [];
  for (const m of mutations) {
    const last = groups[groups.length - 1];
    if (last && m.txn !== undefined && last[0]!.txn === m.txn) last.push(m);
    else groups.push([m]);
  }
  return groups;
}
