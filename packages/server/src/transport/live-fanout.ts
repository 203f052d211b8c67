import type { ChangesMessage, ScopeId } from '@syncline/protocol';
import { asVersion } from '@syncline/protocol';
import type { ServerMetrics } from '../ops/metrics.js';
import type { CommitBus } from '../sync/commit-bus.js';
import { toChange, type ChangeSource } from '../sync/wire-change.js';
import { scopeRoom, type SyncIo } from './context.js';
import type { CredentialExpiry } from './credential-expiry.js';

/**
 * The live fan-out: every commit of this node goes from the commit bus to the scope rooms of
 * its changes (on every node, through the cluster adapter when there is one). Subscribe it
 * first, so sockets hear of a commit before change feeds, webhooks and anything else.
 * Sockets of this node whose credentials expired are closed first (`expiry.sweep()`), so a
 * change never reaches an expired principal even when its timer has not fired yet.
 */
export function startLiveFanout(
  io: SyncIo,
  commits: CommitBus,
  metrics: ServerMetrics,
  expiry: CredentialExpiry,
): void {
  commits.subscribe((event) => {
    expiry.sweep();
    broadcastCommit(io, event.changes, event.origin);
    metrics.fanoutChanges.inc(event.changes.length);
    metrics.fanoutLatency.observe((performance.now() - event.committedAt) / 1000);
  });
}

/**
 * Sends one commit's changes to each scope's room, one message per scope. Inside one commit a
 * scope's versions are consecutive (the transaction held the scope), so `after` lets every
 * receiver check that the message continues exactly where its cursor is. The socket that pushed
 * the commit (`origin`) is skipped, on every node.
 */
export function broadcastCommit(io: SyncIo, committed: readonly ChangeSource[], origin?: string): void {
  const byScope = new Map<ScopeId, ChangeSource[]>();
  for (const r of committed) {
    const list = byScope.get(r.scope);
    if (list) list.push(r);
    else byScope.set(r.scope, [r]);
  }
  for (const [scope, records] of byScope) {
    records.sort((a, b) => a.version - b.version);
    const msg: ChangesMessage = {
      scope,
      after: asVersion(records[0]!.version - 1),
      changes: records.map(toChange),
    };
    // The pushing socket already has these changes in its push response (protocol 2).
    const room = io.to(scopeRoom(scope));
    (origin === undefined ? room : room.except(origin)).emit('changes', msg);
  }
}
