import { type SyncError } from '@syncline/protocol';
import { failureOf } from './loop-step.js';
import { answered, request, type ClientSocket } from './transport.js';

/** Share of the credentials' lifetime after which the client asks for fresh ones. */
export const REFRESH_AT = 0.8;
/** Below this much time left, a failed refresh is not retried: the reconnect path takes over. */
export const MIN_RETRY_LEFT_MS = 500;
/** The longest wait between two refresh attempts after a failure. */
export const MAX_RETRY_MS = 5_000;

/** When the server says the connection's credentials end (`hello`, or a `reauth` answer). */
export interface CredentialGrant {
  /** Server clock, ms since the epoch; null when they never expire. */
  readonly expiresAt: number | null;
  /** The server's clock when it said so. */
  readonly serverTime: number;
}

/**
 * How long after a grant to ask for fresh credentials: at `ratio` of their lifetime, measured on
 * the server's clock (`expiresAt - serverTime`), so a skewed client clock does not matter.
 * `undefined` when they never expire.
 */
export function refreshDelay(grant: CredentialGrant, ratio = REFRESH_AT): number | undefined {
  // Anything but a finite time (an older or broken server) is treated as "never": no refresh
  // loop; the server's own expiry and the reconnect path still apply.
  if (typeof grant.expiresAt !== 'number' || !Number.isFinite(grant.expiresAt)) return undefined;
  if (typeof grant.serverTime !== 'number' || !Number.isFinite(grant.serverTime)) return undefined;
  return Math.max(0, Math.floor((grant.expiresAt - grant.serverTime) * ratio));
}

/**
 * After a failed refresh with `leftMs` until the credentials expire: when to try again (half the
 * time left, at most `MAX_RETRY_MS`), or `undefined` to let them expire; the server then closes
 * the connection and the engine reconnects, asking the `token` function again.
 */
export function retryDelay(leftMs: number): number | undefined {
  if (leftMs < MIN_RETRY_LEFT_MS) return undefined;
  return Math.min(MAX_RETRY_MS, Math.floor(leftMs / 2));
}

export interface CredentialRefreshOptions {
  /** A token function can be refreshed; a fixed token (or none) cannot, and is not asked. */
  readonly token?: string | (() => string | Promise<string>) | undefined;
  readonly requestTimeoutMs: number;
  readonly now: () => number;
  /** A refresh that failed (it is retried while time is left). */
  readonly report: (error: SyncError) => void;
}

/**
 * Keeps one connection's credentials fresh (protocol 4): at 80 % of their lifetime it asks the
 * `token` function for a new token and sends it on the live socket (`reauth`). The connection,
 * its subscriptions and the push window stay as they are: nothing is pulled or pushed again.
 * If refreshing fails for good, the server closes the socket at `expiresAt` and the engine
 * reconnects with a fresh token, resending only what the server had not acknowledged.
 */
export class CredentialRefresh {
  #socket: ClientSocket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: CredentialRefreshOptions) {}

  /** A connection was accepted with `grant`: schedules its refresh. */
  attach(socket: ClientSocket, grant: CredentialGrant): void {
    this.detach();
    this.#socket = socket;
    this.#schedule(socket, grant);
  }

  /** The connection is gone: no refresh for it any more. */
  detach(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#socket = undefined;
  }

  #schedule(socket: ClientSocket, grant: CredentialGrant): void {
    const delay = refreshDelay(grant);
    if (delay === undefined || typeof this.options.token !== 'function') return;
    const deadline = this.options.now() + (grant.expiresAt! - grant.serverTime);
    this.#later(socket, delay, deadline);
  }

  #later(socket: ClientSocket, delay: number, deadline: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#refresh(socket, deadline), delay);
  }

  async #refresh(socket: ClientSocket, deadline: number): Promise<void> {
    this.#timer = undefined;
    const { token, requestTimeoutMs, now } = this.options;
    if (typeof token !== 'function') return;
    try {
      const fresh = await token();
      if (this.#socket !== socket) return;
      const res = await answered(request(socket, 'reauth', { token: fresh }, requestTimeoutMs));
      if (this.#socket === socket) this.#schedule(socket, res);
    } catch (err) {
      if (this.#socket !== socket) return;
      this.options.report(failureOf(err));
      const retry = retryDelay(deadline - now());
      if (retry !== undefined) this.#later(socket, retry, deadline);
    }
  }
}
