import { createHash } from 'node:crypto';
import {
  asClientId,
  ClientIdSchema,
  syncError,
  type AppMutation,
  type ClientId,
  type ServerWriteResponse,
  type SyncError,
  type Validated,
  type WriterStateResponse,
} from '@syncline/protocol';
import type { Principal } from '../auth/auth.js';
import { failureOf, isStorageFailure } from '../ops/failure.js';
import { encodeAppMutations } from './app-values.js';
import { runPush, type PushDeps } from './run-push.js';

/**
 * The client id a backend writes under when it names none: `srv_` and 32 characters of the
 * SHA-256 of its principal id, so each principal gets its own stable mid sequence. Backends that
 * run several writers at once under one principal give each its own client id instead.
 */
export function serverClientId(principalId: string): ClientId {
  return asClientId(`srv_${createHash('sha256').update(principalId).digest('base64url').slice(0, 32)}`);
}

/**
 * Resolves the backend's client id (given or derived) and binds it to the principal, as a socket
 * handshake does: a client id bound to another principal is refused (`client_id_mismatch`).
 * Also refuses expired credentials.
 */
async function bindWriter(
  deps: PushDeps,
  principal: Principal,
  clientId: unknown,
): Promise<Validated<{ clientId: ClientId; lastMid: number }>> {
  if (principal.expiresAt !== undefined && deps.clock.now() >= principal.expiresAt) {
    return { ok: false, error: syncError('auth_expired', 'credentials expired') };
  }
  let id: ClientId;
  if (clientId === undefined) id = serverClientId(principal.id);
  else {
    const parsed = ClientIdSchema.safeParse(clientId);
    if (!parsed.success) {
      return {
        ok: false,
        error: syncError('invalid_message', 'clientId must be 8-64 characters of [A-Za-z0-9_-]'),
      };
    }
    id = parsed.data;
  }
  // A read: asking for an unknown client's state answers "nothing applied" and stores nothing.
  const row = await deps.storage.getClient(id);
  if (row && row.userId !== principal.id) {
    return { ok: false, error: syncError('client_id_mismatch', 'this client id belongs to another user') };
  }
  return { ok: true, value: { clientId: id, lastMid: row?.lastMid ?? 0 } };
}

/** Errors as data: storage and unexpected failures become `storage_unavailable` / `internal`. */
async function guarded<T>(
  deps: PushDeps,
  operation: string,
  fn: () => Promise<T | { ok: false; error: SyncError }>,
): Promise<T | { ok: false; error: SyncError }> {
  try {
    return await fn();
  } catch (err) {
    if (isStorageFailure(err)) deps.metrics.storageErrors.inc({ operation });
    return { ok: false, error: failureOf(err) };
  }
}

/**
 * A backend's write, through exactly the path of a client push (`runPush`): the same
 * validation and limits, `authorize(principal, scope, 'push')` per scope, conflict strategies,
 * validation hooks, history, and live fan-out to connected clients, change feeds and webhooks.
 *
 * Exactly once, like any client: the mutations carry dense mids of the backend's client id
 * (`clientId`, or the one derived from the principal); re-sending a batch after a failure or a
 * lost answer gets `duplicate` for what was already applied, and a gap is refused with
 * `mid_gap` (`details.expectedMid`). Ask `writerState` for the last applied mid on start-up.
 */
export function writeAsServer(
  deps: PushDeps,
  principal: Principal,
  request: { readonly clientId?: unknown; readonly mutations: unknown },
): Promise<ServerWriteResponse> {
  return guarded(deps, 'server_write', async () => {
    const writer = await bindWriter(deps, principal, request.clientId);
    if (!writer.ok) return writer;
    const { clientId } = writer.value;
    const res = await runPush(
      deps,
      { principal, clientId, source: 'server' },
      { mutations: request.mutations },
    );
    return res.ok ? { ok: true, clientId, results: res.results } : res;
  });
}

/**
 * `SyncServer.applyMutations`: a backend write whose values are in the app's types, encoded
 * here as a client encodes them, then `writeAsServer`. Refused with `shutting_down` once the
 * server closes; otherwise tracked, so shutdown waits for its answer.
 */
export function writeAppMutations(
  deps: PushDeps & {
    readonly isClosing: () => boolean;
    readonly track: (work: Promise<unknown>) => void;
  },
  principal: Principal,
  mutations: readonly AppMutation[],
  clientId: string | undefined,
): Promise<ServerWriteResponse> {
  if (deps.isClosing()) {
    return Promise.resolve({ ok: false, error: syncError('shutting_down', 'server is shutting down') });
  }
  const encoded = encodeAppMutations(mutations);
  if (!encoded.ok) return Promise.resolve(encoded);
  const work = writeAsServer(deps, principal, { clientId, mutations: encoded.value });
  deps.track(work);
  return work;
}

/** The backend client id's last applied mid (0 for a new one), binding it to the principal. */
export function writerState(
  deps: PushDeps,
  principal: Principal,
  clientId?: unknown,
): Promise<WriterStateResponse> {
  return guarded(deps, 'writer_state', async () => {
    const writer = await bindWriter(deps, principal, clientId);
    if (!writer.ok) return writer;
    return { ok: true, clientId: writer.value.clientId, lastMid: writer.value.lastMid };
  });
}
