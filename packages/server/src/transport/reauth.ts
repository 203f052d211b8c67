import {
  ReauthRequestSchema,
  asScopeId,
  syncError,
  validateMessage,
  type ReauthResponse,
} from '@syncline/protocol';
import { PRESENCE_ROOM_PREFIX } from '../presence/presence-hub.js';
import { SCOPE_ROOM_PREFIX, type ServerContext, type ServerSocket } from './context.js';

/**
 * `reauth` (protocol 4): fresh credentials on the live connection. The app's `authenticate`
 * hook judges the token as in the handshake (same headers and address); the new principal
 * must be the user the socket already is, since its client id is bound to that user. Refused
 * credentials change nothing: the socket keeps the old ones until they expire. New claims may
 * grant less: the socket leaves every scope room the new principal may not subscribe to, so no
 * live change of such a scope reaches it (its pulls and pushes there are refused as `forbidden`).
 */
export async function reauthenticate(
  ctx: ServerContext,
  socket: ServerSocket,
  payload: unknown,
): Promise<ReauthResponse> {
  const req = validateMessage(ReauthRequestSchema, payload, ctx.limits);
  if (!req.ok) return req;
  const principal = await ctx.auth.authenticate({
    token: req.value.token,
    headers: socket.handshake.headers,
    address: socket.handshake.address,
  });
  if (!principal) return { ok: false, error: syncError('unauthenticated', 'authentication failed') };
  if (principal.id !== socket.data.principal.id) {
    return {
      ok: false,
      error: syncError(
        'client_id_mismatch',
        'fresh credentials must name the user this connection belongs to',
      ),
    };
  }
  const now = ctx.clock.now();
  if (principal.expiresAt !== undefined && now >= principal.expiresAt) {
    return { ok: false, error: syncError('auth_expired', 'the fresh credentials have already expired') };
  }
  // The socket may have closed while the hook ran: nothing to renew then.
  if (!socket.connected) return { ok: false, error: syncError('auth_expired', 'the connection has closed') };
  socket.data.principal = principal;
  ctx.expiry.renewed(socket);
  for (const room of [...socket.rooms]) {
    if (room.startsWith(PRESENCE_ROOM_PREFIX)) {
      const scope = asScopeId(room.slice(PRESENCE_ROOM_PREFIX.length));
      if (!(await ctx.auth.authorize(principal, scope, 'subscribe')))
        await ctx.presence.revoke(socket.id, scope);
      continue;
    }
    if (!room.startsWith(SCOPE_ROOM_PREFIX)) continue;
    const scope = asScopeId(room.slice(SCOPE_ROOM_PREFIX.length));
    if (!(await ctx.auth.authorize(principal, scope, 'subscribe'))) await socket.leave(room);
  }
  return { ok: true, expiresAt: principal.expiresAt ?? null, serverTime: now };
}
