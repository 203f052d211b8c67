import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  syncError,
  type ClientToServerEvents,
  type Hello,
  type ServerToClientEvents,
  type SyncError,
} from '@syncline/protocol';

/** The client's Socket.IO connection to a sync server (the server's side is its `ServerSocket`). */
export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ConnectOptions {
  readonly url: string;
  readonly clientId: string;
  /** A token, or a function returning a fresh one per connection attempt. */
  readonly token?: string | (() => string | Promise<string>) | undefined;
  readonly path?: string | undefined;
  readonly timeoutMs: number;
}

/** A refused or failed connection, with the server's error when it gave one. */
export class ConnectError extends Error {
  constructor(readonly error: SyncError) {
    super(`${error.code}: ${error.message}`);
  }
}

/** An accepted connection and the server's `hello` on it. */
export interface Connected {
  readonly socket: ClientSocket;
  readonly hello: Hello;
}

/**
 * Opens one Socket.IO connection (no built-in reconnection: the engine owns retries and
 * failover) and resolves once the server accepted the handshake and said `hello` (which the
 * server sends right after accepting; it carries the credentials' `expiresAt`). Rejects with a
 * `ConnectError` when the server refuses, the link drops, or no `hello` came within `timeoutMs`.
 */
export function connectSocket(opts: ConnectOptions): Promise<Connected> {
  const socket: ClientSocket = io(opts.url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: opts.timeoutMs,
    ...(opts.path !== undefined ? { path: opts.path } : {}),
    auth: (cb) => {
      const token = typeof opts.token === 'function' ? opts.token() : opts.token;
      void Promise.resolve(token).then(
        (t) =>
          cb({
            protocolVersion: PROTOCOL_VERSION,
            clientId: opts.clientId,
            ...(t !== undefined ? { token: t } : {}),
          }),
        () => cb({ protocolVersion: PROTOCOL_VERSION, clientId: opts.clientId }),
      );
    },
  });
  return new Promise((resolve, reject) => {
    // Socket.IO's `timeout` covers only the transport's open: a lost CONNECT packet, or a lost
    // `hello` after it, would leave the attempt (and the engine's loop) waiting for ever.
    const deadline = setTimeout(
      () => fail(syncError('internal', `no answer from ${opts.url} within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    const fail = (error: SyncError) => {
      clearTimeout(deadline);
      socket.off('hello');
      socket.off('connect_error');
      socket.off('disconnect', lost);
      socket.close();
      reject(new ConnectError(error));
    };
    const lost = (reason: string) =>
      fail(syncError('internal', `connection to ${opts.url} lost before hello: ${reason}`));
    socket.once('hello', (hello) => {
      clearTimeout(deadline);
      socket.off('connect_error');
      socket.off('disconnect', lost);
      resolve({ socket, hello });
    });
    socket.once('connect_error', (err: Error & { data?: SyncError }) =>
      fail(err.data ?? syncError('internal', `cannot connect to ${opts.url}: ${err.message}`)),
    );
    socket.on('disconnect', lost);
  });
}

/** A request the server refused or that failed (timeout, dropped socket), as the engine meets it. */
export class RequestFailed extends Error {
  constructor(readonly error: SyncError) {
    super(`${error.code}: ${error.message}`);
  }
}

/** The answer of a request when it is `ok`; otherwise throws `RequestFailed` with its error. */
export async function answered<R extends { ok: boolean }>(p: Promise<R>): Promise<R & { ok: true }> {
  let res: R;
  try {
    res = await p;
  } catch {
    throw new RequestFailed(syncError('internal', 'request timed out or the connection dropped'));
  }
  if (!res.ok) throw new RequestFailed((res as unknown as { error: SyncError }).error);
  return res as R & { ok: true };
}

type RequestOf<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type ResponseOf<E extends keyof ClientToServerEvents> = Parameters<Parameters<ClientToServerEvents[E]>[1]>[0];

/** One typed request/acknowledgement round trip; rejects on timeout or disconnect. */
export function request<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: RequestOf<E>,
  timeoutMs: number,
): Promise<ResponseOf<E>> {
  // A closed socket would buffer the event and only fail at the timeout: fail now instead.
  if (!socket.connected) return Promise.reject(new Error('not connected'));
  // socket.io's typings lose the ack type through `timeout()`; the event map fixes it here.
  const timed = socket.timeout(timeoutMs) as unknown as {
    emitWithAck(e: E, p: RequestOf<E>): Promise<ResponseOf<E>>;
  };
  return timed.emitWithAck(event, payload);
}
