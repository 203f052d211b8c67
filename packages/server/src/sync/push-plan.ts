import type { Mutation } from '@syncline/protocol';
import type { RecordKey, StorageTx } from '../storage/storage.js';

/**
 * How `applyPush` walks a push before and while applying it: the records it will read, fetched
 * ahead in one go, and the runs of mutations that share a `txn` (applied all-or-nothing).
 */

/** Reads the records of a push's fresh mutations ahead, in one go where the backend can. */
export async function prefetch(
  tx: StorageTx,
  mutations: readonly Mutation[],
  lastMid: number,
): Promise<void> {
  if (!tx.prefetchRecords) return;
  const keys = new Map<string, RecordKey>();
  for (const m of mutations) {
    if (m.mid <= lastMid) continue;
    keys.set(`${m.scope}\u0000${m.collection}\u0000${m.id}`, m);
  }
  // One record is one read either way.
  if (keys.size > 1) await tx.prefetchRecords([...keys.values()]);
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
