import {
  PresenceLeaveRequestSchema,
  PresenceSetRequestSchema,
  PresenceWatchRequestSchema,
  inspectJson,
  syncError,
  validateMessage,
  type PresenceLeaveResponse,
  type PresenceSetResponse,
  type PresenceWatchResponse,
  type ScopeId,
} from '@syncline/protocol';
import { presenceRoom } from '../presence/presence-hub.js';
import { TokenBucket } from './rate-limiter.js';
import type { ServerContext, ServerSocket } from './context.js';

/**
 * `presence_set`, `presence_leave` and `presence_watch` (see `PresenceHub`). Watching and
 * publishing need `subscribe` access to the scope, as its live changes do. Set and leave take a
 * token from the socket's presence bucket (`limits.presencePerSecond`, `presenceBurst`) on top
 * of the gate's event bucket: every accepted one is a broadcast to all the scope's watchers.
 * The socket's entries leave when it disconnects.
 */
export function createPresenceHandlers(ctx: ServerContext, socket: ServerSocket) {
  const { limits, presence } = ctx;
  const bucket = new TokenBucket(limits.presencePerSecond, limits.presenceBurst, ctx.clock);
  socket.on('disconnect', () => presence.drop(socket.id));

  const mayWatch = async (scope: ScopeId) => ctx.auth.authorize(socket.data.principal, scope, 'subscribe');
  const forbidden = (scope: ScopeId) =>
    ({ ok: false, error: syncError('forbidden', `no subscribe access to scope "${scope}"`) }) as const;
  const limited = () =>
    ({
      ok: false,
      error: syncError('rate_limited', `at most ${limits.presencePerSecond} presence updates per second`),
    }) as const;

  const watch = async (scope: ScopeId) => {
    if (socket.rooms.has(presenceRoom(scope))) return;
    await presence.watch(socket.id, scope);
  };

  const presence_set = async (payload: unknown): Promise<PresenceSetResponse> => {
    const req = validateMessage(PresenceSetRequestSchema, payload, limits);
    if (!req.ok) return req;
    const { scope, tab, state } = req.value;
    const size = inspectJson(state, { maxDepth: limits.maxDepth, maxBytes: limits.maxPresenceBytes });
    if (!size.ok) {
      const code = size.code === 'payload_too_large' ? 'presence_too_large' : size.code;
      return { ok: false, error: syncError(code, `presence state: ${size.message}`) };
    }
    if (!bucket.tryTake()) return limited();
    if (!(await mayWatch(scope))) return forbidden(scope);
    const { clientId } = socket.data;
    if (
      !presence.holds(socket.id, scope, clientId, tab) &&
      presence.count(socket.id) >= limits.maxPresenceEntries
    ) {
      return {
        ok: false,
        error: syncError(
          'too_many_presence_entries',
          `this connection holds ${limits.maxPresenceEntries} presence entries; leave one first`,
        ),
      };
    }
    await watch(scope);
    // The user is the authenticated principal's, never what the client claims.
    presence.set(socket.id, scope, { user: socket.data.principal.id, client: clientId, tab }, state);
    return { ok: true };
  };

  const presence_leave = async (payload: unknown): Promise<PresenceLeaveResponse> => {
    const req = validateMessage(PresenceLeaveRequestSchema, payload, limits);
    if (!req.ok) return req;
    if (!bucket.tryTake()) return limited();
    presence.leave(socket.id, req.value.scope, socket.data.clientId, req.value.tab);
    return Promise.resolve({ ok: true });
  };

  const presence_watch = async (payload: unknown): Promise<PresenceWatchResponse> => {
    const req = validateMessage(PresenceWatchRequestSchema, payload, limits);
    if (!req.ok) return req;
    const { scope } = req.value;
    if (!req.value.watch) {
      await presence.unwatch(socket.id, scope);
      return { ok: true };
    }
    if (!(await mayWatch(scope))) return forbidden(scope);
    await watch(scope);
    return { ok: true };
  };

  return { presence_set, presence_leave, presence_watch };
}
