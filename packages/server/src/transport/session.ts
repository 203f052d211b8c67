import {
  CLIENT_EVENTS,
  syncError,
  type ClientEventName,
  type ErrorCode,
  type SyncError,
} from '@syncline/protocol';
import { failureOf, isStorageFailure } from '../ops/failure.js';
import { TokenBucket } from './rate-limiter.js';
import { endSession, expiredError } from './credential-expiry.js';
import { createHandlers } from './handlers.js';
import type { ServerContext, ServerSocket } from './context.js';

const isClientEvent = (e: string): e is ClientEventName => (CLIENT_EVENTS as readonly string[]).includes(e);

/**
 * Wires one accepted socket: every protocol event goes through the same gate (ack present,
 * one payload, rate limit, credential expiry, shutdown) before its handler runs, and every
 * failure becomes an error reply, never an exception that could take the process down.
 * `track` registers in-flight work so shutdown can wait for it.
 */
export function attachSession(
  ctx: ServerContext,
  socket: ServerSocket,
  track: (p: Promise<unknown>) => void,
): void {
  const handlers = createHandlers(ctx, socket);
  const bucket = new TokenBucket(ctx.limits.eventsPerSecond, ctx.limits.eventBurst, ctx.clock);
  const log = { clientId: socket.data.clientId, userId: socket.data.principal.id, socketId: socket.id };

  const dispatch = (event: string, args: unknown[]): void => {
    // Unknown event names are one label value: their text never becomes a label.
    const label = isClientEvent(event) ? event : 'unknown';
    const ack = args[args.length - 1];
    if (typeof ack !== 'function') {
      ctx.metrics.recordRequest(label, 'invalid_message');
      socket.emit('protocol_error', {
        ...syncError('invalid_message', `"${event}" needs an acknowledgement callback`),
        event,
      });
      return;
    }
    const reply = (res: unknown) => {
      const r = res as { ok?: unknown; error?: { code?: ErrorCode } };
      ctx.metrics.recordRequest(label, r.ok === true ? 'ok' : (r.error?.code ?? 'internal'));
      try {
        (ack as (r: unknown) => void)(res);
      } catch (err) {
        ctx.logger.warn('ack failed', { ...log, event, err });
      }
    };
    const refuse = (error: SyncError) => reply({ ok: false, error });

    if (!bucket.tryTake())
      return refuse(syncError('rate_limited', 'too many events per second on this socket'));
    if (!isClientEvent(event))
      return refuse(syncError('unknown_event', `unknown event "${event.slice(0, 64)}"`));
    if (args.length !== 2)
      return refuse(syncError('invalid_message', `"${event}" takes exactly one request`));
    const expiresAt = socket.data.principal.expiresAt;
    if (expiresAt !== undefined && ctx.clock.now() >= expiresAt) {
      const expired = expiredError();
      refuse(expired);
      // The same end as the expiry timer's: `session_ended`, then the close.
      endSession(socket, expired);
      return;
    }
    if (ctx.isClosing()) return refuse(syncError('shutting_down', 'server is shutting down'));
    // The principal's budget over all its sockets (budgets.ts); a reconnect does not reset it.
    const handler = handlers[event];
    const request = args[0];
    // Tracked from here, so shutdown also waits for an event still being admitted.
    const admitted = ctx.budgets.admitEvent(socket.data.principal.id).then((refused) => {
      if (refused) return refuse(refused);
      const started = performance.now();
      const work = handler(request).then(
        (res) => {
          reply(res);
          ctx.logger.debug('event', {
            ...log,
            event,
            ok: res.ok,
            ms: Math.round(performance.now() - started),
          });
        },
        (err: unknown) => {
          // A storage outage is an operational condition (readiness reports it), not a bug.
          const storageDown = isStorageFailure(err);
          if (storageDown) ctx.logger.warn('event failed', { ...log, event, err });
          else ctx.logger.error('event failed', { ...log, event, err });
          if (storageDown) ctx.metrics.storageErrors.inc({ operation: event });
          refuse(failureOf(err));
        },
      );
      return work;
    });
    track(admitted);
  };

  // onAny sees every event, known or not; known ones are dispatched here too so there is one gate.
  socket.onAny((event: unknown, ...args: unknown[]) => dispatch(String(event), args));
  socket.on('error', (err) => ctx.logger.warn('socket error', { ...log, err }));
  socket.on('disconnect', (reason) => {
    ctx.metrics.forgetClient(socket.id);
    ctx.logger.debug('disconnected', { ...log, reason });
  });
}
