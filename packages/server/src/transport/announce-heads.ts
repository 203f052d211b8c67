import { asScopeId, asVersion, type ChangesMessage } from '@syncline/protocol';
import type { SyncStorage } from '../storage/storage.js';
import { toChange } from '../sync/wire-change.js';
import { SCOPE_ROOM_PREFIX, scopeRoom, type SyncIo } from './context.js';

/**
 * Sends each scope room of this node the scope's latest change again, as an ordinary `changes`
 * message (`after` = head − 1), to this node's sockets only. A client already at the head ignores
 * it, one just behind applies it, and one further behind sees a version gap and pulls. Used after
 * the cross-node connection was down: broadcasts of other nodes' commits may have been lost
 * meanwhile, and without a later change in that scope nothing else would reveal the gap.
 * Resolves with the number of rooms announced to; rejects on storage failure.
 */
export async function announceHeads(io: SyncIo, storage: SyncStorage): Promise<number> {
  const scopes = [...io.of('/').adapter.rooms.keys()]
    .filter((room) => room.startsWith(SCOPE_ROOM_PREFIX))
    .map((room) => asScopeId(room.slice(SCOPE_ROOM_PREFIX.length)));
  let announced = 0;
  for (const scope of scopes) {
    const head = await storage.head(scope);
    if (head === 0) continue;
    const last = (await storage.scopeHistory(scope, asVersion(head - 1), 1)).entries[0];
    // Retention may have removed the entry (a purged tombstone): nothing to announce with.
    if (last?.version !== head) continue;
    const msg: ChangesMessage = { scope, after: asVersion(head - 1), changes: [toChange(last)] };
    io.local.to(scopeRoom(scope)).emit('changes', msg);
    announced++;
  }
  return announced;
}
