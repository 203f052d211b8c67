import type { ErrorCode } from '@syncline/protocol';

/** Codes of errors the client raises itself, besides the protocol's. */
export const CLIENT_ERROR_CODES = {
  /** A synced table's primary key cannot be synced (auto-increment, outbound, or no schema). */
  unsupported_key: { retryable: false },
} as const satisfies Record<string, { readonly retryable: boolean }>;

export type SynclineErrorCode = ErrorCode | keyof typeof CLIENT_ERROR_CODES;

/**
 * An error raised by the client API, as data: a stable `code`, a message saying what to do,
 * whether retrying can help, and the underlying `cause` if any.
 */
export class SynclineError extends Error {
  readonly code: SynclineErrorCode;
  readonly retryable: boolean;

  constructor(
    code: SynclineErrorCode,
    message: string,
    opts: { readonly retryable?: boolean; readonly cause?: unknown } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'SynclineError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}
