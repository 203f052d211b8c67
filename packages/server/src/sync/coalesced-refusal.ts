import { lastMidOf, syncError, type Mutation, type MutationResult, type SyncError } from '@syncline/protocol';

/*
 * Coalesced mutations (protocol 5) merge several edits of one record on the client. When the
 * server refuses one, it must not refuse the edits that alone would pass: the push is undone and
 * the client resends that range one mid per mutation.
 */

/** Thrown inside the push's transaction to undo all of it: a coalesced mutation was refused. */
export class SplitRequired extends Error {
  /** The `split_required` answer, naming the range to send one mid at a time. */
  readonly error: SyncError;

  constructor(mutation: Mutation) {
    super('split required');
    const { mid } = mutation;
    const midTo = lastMidOf(mutation);
    this.error = syncError(
      'split_required',
      `the server refused the coalesced mutation covering mids ${mid}-${midTo}; nothing was applied: ` +
        'send those mids one by one',
      { mid, midTo },
    );
  }
}

/**
 * The coalesced mutation the server refused on its own account (not as a bystander of an
 * aborted txn), if any. Its edits were merged on the client; refusing the merge would refuse
 * every edit it covers, also those that alone would pass, so the push is undone and the client
 * sends that range one mutation per mid.
 */
export function refusedCoalesced(
  mutations: readonly Mutation[],
  results: readonly MutationResult[],
): Mutation | undefined {
  const byMid = new Map(mutations.map((m) => [m.mid as number, m]));
  for (const r of results) {
    if (r.status !== 'rejected' || r.error.code === 'txn_aborted') continue;
    const m = byMid.get(r.mid);
    if (m && lastMidOf(m) > m.mid) return m;
  }
  return undefined;
}
