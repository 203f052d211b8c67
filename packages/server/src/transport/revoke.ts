import { syncError } from '@syncline/protocol';
import type { Logger } from '../ops/logger.js';
import { userRoom, type ServerSocket, type SyncIo } from './context.js';
import { endSession } from './credential-expiry.js';

/** What `revoke` did on this node. */
export interface RevokeResult {
  /** Sockets of the user this node closed (other nodes close theirs through the adapter). */
  readonly localSockets: number;
}

/**
 * Ends a user's access now: every socket of `userId` hears `session_ended` (`access_revoked`)
 * and is closed: on this node at once, on the other nodes through the cluster adapter's
 * broadcast (`clustered`). It does not refuse the next connection: the app's `authenticate`
 * hook must stop accepting the revoked credentials (a client reconnects at once with a token
 * from its `token` function).
 */
export function revokeUser(io: SyncIo, logger: Logger, userId: string, clustered: boolean): RevokeResult {
  const error = syncError('access_revoked', 'access to this server was revoked');
  const room = userRoom(userId);
  const ns = io.of('/');
  const local = [...(ns.adapter.rooms.get(room) ?? [])]
    .map((id) => ns.sockets.get(id))
    .filter((s): s is ServerSocket => s !== undefined);
  for (const socket of local) endSession(socket, error);
  // Closed sockets left the room above, so this reaches only other nodes' sockets.
  if (clustered) {
    io.in(room).emit('session_ended', error);
    io.in(room).disconnectSockets(true);
  }
  logger.info('access revoked', { userId, localSockets: local.length });
  return { localSockets: local.length };
}
