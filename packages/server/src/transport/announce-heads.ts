import { asScopeId, asVersion, type ChangesMessage, type ScopeId } from '@syncline/protocol';
import type { SyncStorage } from '../storage/storage.js';
import { toChange } from '../sync/wire-change.js';
import { SCOPE_ROOM_PREFIX, scopeRoom, type SyncIo } from './context.js';

/**
 * Sends scope rooms each scope's latest change again, as an ordinary `changes` message (`after`
 * = head − 1). A client already at the head ignores it, one just behind applies it, and one
 * further behind sees a version gap and pulls. Used after the cross-node connection was down,
 * when broadcasts may have been lost both ways: this node's scope rooms hear their heads locally
 * (what other nodes committed meanwhile), and the scopes in `everywhere` (what this node
 * committed meanwhile) are announced through the cluster adapter to every node's rooms. Without
 * it a scope whose last change was lost would stay behind until its next change.
 * Resolves with the number of scopes announced; rejects on storage failure.
 */
export async function announceHeads(
  io: SyncIo,
  storage: SyncStorage,
  everywhere: Iterable<ScopeId> = [],
): Promise<number> {
  const wide = new Set(everywhere);
  const local = [...io.of('/').adapter.rooms.keys()]
    .filter((room) => room.startsWith(SCOPE_ROOM_PREFIX))
    .map((room) => asScopeId(room.slice(SCOPE_ROOM_PREFIX.length)))
    .filter((scope) => !wide.has(scope));
  let announced = 0;
  for (const [scope, to] of [
    ...local.map((s) => [s, io.local] as const),
    ...[...wide].map((s) => [s, io] as const),
  ]) {
    const msg = await headMessage(storage, scope);
    if (!msg) continue;
    to.to(scopeRoom(scope)).emit('changes', msg);
    announced++;
  }
  return announced;
}

async function headMessage(storage: SyncStorage, scope: ScopeId): Promise<ChangesMessage | undefined> {
  const head = await storage.head(scope);
  if (head === 0) return undefined;
  const last = (await storage.scopeHistory(scope, asVersion(head - 1), 1)).entries[0];
  // Retention may have removed the entry (a purged tombstone): nothing to announce with.
  if (last?.version !== head) return undefined;
  return { scope, after: asVersion(head - 1), changes: [toChange(last)] };
}
