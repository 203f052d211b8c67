import type { Change, ChangesMessage, ScopeId } from '@syncline/protocol';
import { asVersion } from '@syncline/protocol';
import type { StoredRecord } from '../storage/storage.js';
import { scopeRoom, type SyncIo } from './context.js';

/** What a change carries on the wire; both a record's latest state and a history entry have it. */
type ChangeSource = Pick<
  StoredRecord,
  'scope' | 'collection' | 'id' | 'version' | 'value' | 'clientId' | 'mid'
>;

export function toChange(r: ChangeSource): Change {
  return {
    collection: r.collection,
    id: r.id,
    version: r.version,
    value: r.value,
    clientId: r.clientId,
    mid: r.mid,
  };
}

/**
 * Sends one commit's changes to each scope's room, one message per scope. Inside one commit a
 * scope's versions are consecutive (the transaction held the scope), so `after` lets every
 * receiver check that the message continues exactly where its cursor is.
 */
export function broadcastCommit(io: SyncIo, committed: readonly ChangeSource[]): void {
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
    io.to(scopeRoom(scope)).emit('changes', msg);
  }
}
