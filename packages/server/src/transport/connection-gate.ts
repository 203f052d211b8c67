import { PROTOCOL_VERSION, syncError } from '@syncline/protocol';
import { failureOf } from '../ops/failure.js';
import { userRoom, type ServerContext, type ServerSocket } from './context.js';
import { acceptHandshake, ConnectRefused } from './handshake.js';
import { isOriginAllowed } from './origin.js';
import { attachSession } from './session.js';

/**
 * Every connection passes this gate before any event: refused while shutting down, refused from
 * an origin not in `cors.origins` (`origin_not_allowed`, so a developer sees why), then the
 * handshake (`acceptHandshake`: protocol version, authentication, client id binding) between
 * the connection budgets of the address and of the principal (`rate_limited`). An accepted
 * socket gets its session (the per-event gate and handlers), its expiry timer and its user's
 * room (`revoke`), and then `hello` (with `expiresAt`, so the client refreshes in time).
 *
 * In development auth mode everyone gets through, which is logged loudly once, here.
 *
 * A refusal reaches the client's `connect_error` as `{ code, message, retryable }`; an
 * unexpected failure is logged and refused as retryable (a storage outage only as a warning:
 * readiness reports it, it is not a bug).
 */
export function gateConnections(
  ctx: ServerContext,
  origins: readonly string[],
  track: (p: Promise<unknown>) => void,
): void {
  const { io, logger } = ctx;
  if (ctx.devMode) {
    logger.warn(
      'DEVELOPMENT AUTH MODE: every connection is accepted and every scope is open to everyone. ' +
        'Never run this in production; pass auth hooks (see README).',
      { devMode: true },
    );
  }
  io.use((socket, next) => {
    if (ctx.isClosing())
      return next(new ConnectRefused({ code: 'shutting_down', message: 'shutting down', retryable: true }));
    if (!isOriginAllowed(socket.request, origins)) {
      const origin = String(socket.request.headers.origin);
      logger.info('connection refused', { code: 'origin_not_allowed', origin });
      return next(
        new ConnectRefused(
          syncError(
            'origin_not_allowed',
            `origin ${origin} is not allowed; add it to the server's cors.origins`,
          ),
        ),
      );
    }
    budgetedHandshake(ctx, socket).then(
      () => next(),
      (err: unknown) => {
        if (err instanceof ConnectRefused) {
          logger.info('connection refused', { code: err.data.code, address: socket.handshake.address });
          return next(err);
        }
        // Retryable either way; a storage outage is reported by readiness, not a bug.
        const error = failureOf(err);
        if (error.code !== 'storage_unavailable') logger.error('handshake failed', { err });
        else {
          logger.warn('handshake failed', { err });
          ctx.metrics.storageErrors.inc({ operation: 'handshake' });
        }
        next(new ConnectRefused(error));
      },
    );
  });

  io.on('connection', (socket) => {
    attachSession(ctx, socket, track);
    // Expiry and revocation (`revoke` closes the user's room on every node).
    ctx.expiry.watch(socket);
    void socket.join(userRoom(socket.data.principal.id));
    socket.emit('hello', {
      protocolVersion: PROTOCOL_VERSION,
      nodeId: ctx.nodeId,
      serverTime: ctx.clock.now(),
      userId: socket.data.principal.id,
      devMode: ctx.devMode,
      expiresAt: socket.data.principal.expiresAt ?? null,
    });
  });
}

/** The handshake, after the address's connection budget and before the principal's. */
async function budgetedHandshake(ctx: ServerContext, socket: ServerSocket): Promise<void> {
  const address = ctx.budgets.addressOf(socket.handshake.address, socket.handshake.headers);
  const byAddress = await ctx.budgets.admitAddress(address);
  if (byAddress) throw new ConnectRefused(byAddress);
  await acceptHandshake(ctx, socket);
  const byPrincipal = await ctx.budgets.admitPrincipal(socket.data.principal.id);
  if (byPrincipal) throw new ConnectRefused(byPrincipal);
}
