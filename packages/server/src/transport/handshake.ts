import {
  HandshakeSchema,
  PROTOCOL_VERSION,
  syncError,
  validateMessage,
  type SyncError,
} from '@syncline/protocol';
import type { ServerContext, ServerSocket } from './context.js';

/** A connection refusal; Socket.IO hands `data` to the client's `connect_error`. */
export class ConnectRefused extends Error {
  readonly data: SyncError;
  constructor(error: SyncError) {
    super(error.message);
    this.data = error;
  }
}

/**
 * Connection middleware: validates the handshake, checks the protocol version, authenticates,
 * and refuses a client id bound to another principal (so nobody can push as someone else's
 * client; the binding itself is made by the client's first push, in its transaction).
 */
export async function acceptHandshake(ctx: ServerContext, socket: ServerSocket): Promise<void> {
  const hs = validateMessage(HandshakeSchema, socket.handshake.auth, ctx.limits);
  if (!hs.ok) throw new ConnectRefused(hs.error);
  if (hs.value.protocolVersion !== PROTOCOL_VERSION) {
    throw new ConnectRefused(
      syncError(
        'unsupported_protocol',
        `server speaks protocol ${PROTOCOL_VERSION}, client ${hs.value.protocolVersion}`,
      ),
    );
  }
  const principal = await ctx.auth.authenticate({
    token: hs.value.token,
    headers: socket.handshake.headers,
    address: socket.handshake.address,
  });
  if (!principal) throw new ConnectRefused(syncError('unauthenticated', 'authentication failed'));
  if (principal.expiresAt !== undefined && ctx.clock.now() >= principal.expiresAt) {
    throw new ConnectRefused(syncError('auth_expired', 'credentials expired'));
  }
  // A read, not an insert: the client's row is created by its first push (apply-push), so a
  // connection that never writes stores nothing.
  const row = await ctx.storage.getClient(hs.value.clientId);
  if (row && row.userId !== principal.id) {
    throw new ConnectRefused(syncError('client_id_mismatch', 'this client id belongs to another user'));
  }
  socket.data = { principal, clientId: hs.value.clientId };
}
