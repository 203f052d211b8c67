import { syncError, type SyncError } from '@syncline/protocol';
import type { Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { TimerHandle, Timers } from '../ops/timers.js';
import type { ServerSocket } from './context.js';

/**
 * Node's timers fire at once for delays above 2^31 - 1 ms (about 24.8 days): a longer wait is
 * cut into pieces of at most this, each re-checking the clock.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why a socket whose credentials expired is refused and closed (timer, sweep and session gate). */
export const expiredError = (): SyncError =>
  syncError('auth_expired', 'credentials expired; reconnect or reauthenticate with fresh ones');

/**
 * Ends a socket's access when its principal's credentials expire: one timer per socket (through
 * the injected clock and timers), re-armed when the client sends fresh ones (`reauth`), cleared
 * on disconnect. Expiry is not only checked when the client next sends: a silent, subscribed
 * socket is closed at `expiresAt` and hears nothing after it.
 *
 * `sweep()` is the same check run right before a live broadcast, so a timer that has not fired
 * yet (a busy event loop, a test clock moved by hand) never lets a change reach an expired socket
 * on this node; sockets on other nodes are closed by their own node's timers.
 */
export class CredentialExpiry {
  readonly #timers = new Map<ServerSocket, TimerHandle>();
  /** No watched socket expires before this; sweeps before it cost one comparison. */
  #earliest = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly logger: Logger,
  ) {}

  /** Starts watching an accepted socket's credentials; it is forgotten when it disconnects. */
  watch(socket: ServerSocket): void {
    socket.on('disconnect', () => this.#forget(socket));
    this.#arm(socket);
  }

  /** The socket's principal was replaced (fresh credentials): its timer follows the new expiry. */
  renewed(socket: ServerSocket): void {
    this.#forget(socket);
    if (socket.connected) this.#arm(socket);
  }

  /** Closes every watched socket of this node whose credentials expired; returns how many. */
  sweep(): number {
    const now = this.clock.now();
    if (now < this.#earliest) return 0;
    let ended = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const socket of [...this.#timers.keys()]) {
      const at = socket.data.principal.expiresAt ?? Number.POSITIVE_INFINITY;
      if (now >= at) {
        this.#end(socket);
        ended++;
      } else earliest = Math.min(earliest, at);
    }
    this.#earliest = earliest;
    return ended;
  }

  /** Sockets with a pending expiry timer (for tests). */
  get watched(): number {
    return this.#timers.size;
  }

  #arm(socket: ServerSocket): void {
    const at = socket.data.principal.expiresAt;
    if (at === undefined) return;
    const delay = at - this.clock.now();
    // Not after now, or not a time at all (NaN from a broken hook): access ends, fail closed.
    if (!(delay > 0)) return this.#end(socket);
    this.#earliest = Math.min(this.#earliest, at);
    const handle = this.timers.setTimeout(
      () => {
        this.#timers.delete(socket);
        // A long wait was cut into pieces, or the clock runs behind the timers: check again.
        if (this.clock.now() >= at) this.#end(socket);
        else if (socket.connected) this.#arm(socket);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    this.#timers.set(socket, handle);
  }

  #forget(socket: ServerSocket): void {
    const handle = this.#timers.get(socket);
    if (handle === undefined) return;
    this.timers.clearTimeout(handle);
    this.#timers.delete(socket);
  }

  #end(socket: ServerSocket): void {
    this.#forget(socket);
    if (!socket.connected) return;
    this.logger.info('credentials expired', {
      userId: socket.data.principal.id,
      clientId: socket.data.clientId,
      socketId: socket.id,
    });
    endSession(socket, expiredError());
  }
}

/** Tells the client why its access ended, then closes the socket (it leaves every room now). */
export function endSession(socket: ServerSocket, error: SyncError): void {
  socket.emit('session_ended', error);
  socket.disconnect(true);
}
