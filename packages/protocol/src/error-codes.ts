import * as z from 'zod';

/**
 * Every error code on the wire, and whether retrying the same request later can succeed.
 * A non-retryable error means "this request will never succeed as sent".
 */
export const ERROR_CODES = {
  /** The message does not match the protocol schema (wrong types, missing fields). */
  invalid_message: { retryable: false },
  /** A mutation's `op` is not one this protocol knows. */
  unknown_op: { retryable: false },
  /** The client speaks another protocol version. */
  unsupported_protocol: { retryable: false },
  /** The whole message is larger than `maxPayloadBytes`. */
  payload_too_large: { retryable: false },
  /** A record value (sent or resulting from a merge) is larger than `maxRecordBytes`. */
  record_too_large: { retryable: false },
  /** A presence state is larger than `maxPresenceBytes`. */
  presence_too_large: { retryable: false },
  /** The socket already holds `maxPresenceEntries` presence entries; leave one first. */
  too_many_presence_entries: { retryable: false },
  /** A push carries more than `maxMutationsPerPush` mutations. */
  too_many_mutations: { retryable: false },
  /** JSON nested deeper than `maxDepth`. */
  too_deep: { retryable: false },
  /** A key `__proto__`, `constructor` or `prototype` in a value or key path. */
  forbidden_key: { retryable: false },
  /** A value that cannot be synced (non-finite number, invalid Date, Blob, undefined in an array) or an invalid tag. */
  invalid_value: { retryable: false },
  /** Too many events per second on this socket; slow down and retry. */
  rate_limited: { retryable: true },
  /** No or invalid credentials. */
  unauthenticated: { retryable: false },
  /** The credentials expired; reconnect with fresh ones. */
  auth_expired: { retryable: true },
  /** The app revoked this principal's access (`server.revoke`); reconnect with fresh credentials. */
  access_revoked: { retryable: true },
  /** The principal may not do this on this scope. */
  forbidden: { retryable: false },
  /** The client id is bound to another principal. */
  client_id_mismatch: { retryable: false },
  /** The first mutation's `mid` is above the last applied + 1; resend from `details.expectedMid`. */
  mid_gap: { retryable: false },
  /**
   * A coalesced mutation covers mids the server applied and mids it did not (a resend cut
   * differently after a lost ack). Nothing was applied; resend from `details.expectedMid`
   * without coalescing across it.
   */
  mid_overlap: { retryable: false },
  /**
   * A coalesced mutation (one covering `mid … midTo`) was refused: nothing of the push was
   * applied; send the mids of `details.mid … details.midTo` one by one, so only the edit the
   * server refuses is refused.
   */
  split_required: { retryable: false },
  /** Mids inside one push are not consecutive, or a txn is split inside the push. */
  invalid_batch: { retryable: false },
  /** Another mutation of the same txn failed, so this one was not applied. */
  txn_aborted: { retryable: false },
  /** The collection's validation hook or a custom resolver refused the value. */
  validation_failed: { retryable: false },
  /** The mutation needs an existing record (patch, inc, restore) and there is none. */
  not_found: { retryable: false },
  /** `inc` on a field that holds something other than a number. */
  invalid_inc: { retryable: false },
  /** `restore` names a version that is not in this record's history. */
  version_not_found: { retryable: false },
  /** The event name is not part of the protocol. */
  unknown_event: { retryable: false },
  /** An HTTP request for a path or method the server does not serve. */
  unknown_route: { retryable: false },
  /**
   * The change feed cannot continue from this cursor: history it needs was removed by retention,
   * or the cursor is ahead of the scope (a restored database). Start over from a snapshot.
   */
  cursor_unavailable: { retryable: false },
  /** A read-through query the server cannot run: a bad field path or cursor, or too many records to scan. */
  invalid_query: { retryable: false },
  /** An external query source failed or did not answer within its timeout (its rows are missing). */
  source_unavailable: { retryable: true },
  /** The origin of a browser connection is not allowed. */
  origin_not_allowed: { retryable: false },
  /** The storage backend failed or is unreachable; nothing was applied. */
  storage_unavailable: { retryable: true },
  /** The server is shutting down; reconnect (to another node) and retry. */
  shutting_down: { retryable: true },
  /** An unexpected server error; nothing was applied. */
  internal: { retryable: true },
} as const satisfies Record<string, { readonly retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const SyncErrorSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** An error as data: `{ code, message, retryable }`, plus optional machine-readable details. */
export type SyncError = z.infer<typeof SyncErrorSchema>;

/** Builds a `SyncError` whose `retryable` flag always agrees with the code table. */
export function syncError(code: ErrorCode, message: string, details?: Record<string, unknown>): SyncError {
  const error: SyncError = { code, message, retryable: ERROR_CODES[code].retryable };
  if (details !== undefined) error.details = details;
  return error;
}

export function isRetryable(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}
