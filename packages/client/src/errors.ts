import type { ErrorCode, SyncError } from '@syncline/protocol';

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
 * The one error class the client's promise-returning APIs reject with (`whenSynced`,
 * `syncNow`, `reset`, `history`, …): `code` to branch on, `retryable` to decide whether to try
 * again, `cause` for the underlying failure when there is one.
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
