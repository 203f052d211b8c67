import { SynclineConfigError, type ErrorCode, type SyncError } from '@syncline/protocol';

/**
 * Codes of errors raised by the client itself (not sent by a server), and whether trying again
 * later can succeed.
 */
export const CLIENT_ERROR_CODES = {
  /** The operation did not finish within its `timeoutMs`. */
  timeout: { retryable: true },
  /** The client was closed (or its engine stopped) before the operation finished. */
  closed: { retryable: false },
  /** `start()` has not been called (or has not finished) yet. */
  not_started: { retryable: true },
  /** This tab does not run sync for the database (another tab leads); call it there. */
  not_leader: { retryable: true },
  /** The network is down, or sync is paused. */
  offline: { retryable: true },
  /** The mid was never assigned on this device. */
  unknown_mid: { retryable: false },
  /** The record is not synced here (no server version known). */
  unknown_record: { retryable: false },
  /** A synced table's primary key cannot be synced (auto-increment, outbound, or no schema). */
  unsupported_key: { retryable: false },
  /** The version asked for is not in the record's history (never written, or pruned). */
  unknown_version: { retryable: false },
  /** `createSyncClient` was given options or a database it cannot work with (see `cause`). */
  invalid_config: { retryable: false },
  /** A method was called with an argument it cannot use (the message says which and why); nothing changed. */
  invalid_argument: { retryable: false },
  /** The server could not be reached, or did not answer in time (a request outside the sync loop). */
  unreachable: { retryable: true },
} as const satisfies Record<string, { readonly retryable: boolean }>;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

/** Every code a `SynclineError` may carry: the client's own and the protocol's. */
export type SynclineErrorCode = ClientErrorCode | ErrorCode;

/** An error as data: what `errors$` emits and what `SynclineError` carries. */
export interface SynclineErrorData {
  readonly code: SynclineErrorCode;
  readonly message: string;
  readonly retryable: boolean;
}

/**
 * The one error class the client throws and rejects with: its methods (`whenSynced`, `syncNow`,
 * `reset`, `history`, `serverHash`, …), `createSyncClient`'s checks (`invalid_config`) and a
 * Dexie write on a synced table that cannot sync (`invalid_value`, `forbidden_key`, …). `code`
 * to branch on, `retryable` to decide whether to try again, `cause` for the underlying failure
 * when there is one. `C` narrows the code where it is known (e.g. a write refusal's).
 */
export class SynclineError extends Error {
  readonly code: SynclineErrorCode;
  readonly retryable: boolean;

  constructor(error: SynclineErrorData, options?: { readonly cause?: unknown }) {
    super(error.message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'SynclineError';
    this.code = error.code;
    this.retryable = error.retryable;
  }

  /**
   * The error as data, `{ code, message, retryable }`, as the former `SynclineWriteError`
   * carried it.
   * @deprecated Read `code`, `message` and `retryable` on the error itself.
   */
  get error(): SynclineErrorData {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** A `SynclineError` with one of the client's own codes (retryable as the code says). */
export function clientError(
  code: ClientErrorCode,
  message: string,
  options?: { readonly cause?: unknown },
): SynclineError {
  return new SynclineError({ code, message, retryable: CLIENT_ERROR_CODES[code].retryable }, options);
}

/** A server's error (`{ code, message, retryable }` from the wire) as a `SynclineError`. */
export function fromSyncError(error: SyncError, options?: { readonly cause?: unknown }): SynclineError {
  return new SynclineError({ code: error.code, message: error.message, retryable: error.retryable }, options);
}

/**
 * Runs a configuration check and rethrows its refusal as a `SynclineError` `invalid_config`
 * with the same message; `cause` is the `SynclineConfigError`, whose `issues` list each bad path.
 */
export function asClientConfigError<R>(check: () => R): R {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof SynclineConfigError)) throw e;
    throw clientError('invalid_config', e.message, { cause: e });
  }
}
