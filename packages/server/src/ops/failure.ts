import { syncError, type SyncError } from '@syncline/protocol';

/**
 * SQLSTATE classes that say "the database is not there right now", not "this request is wrong":
 * 08 connection exception, 53 insufficient resources (too many connections, disk full),
 * 57P operator intervention (admin shutdown, crash shutdown, cannot connect now — the server is
 * starting or in recovery), 58 system error (I/O).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|58)/;

/** Node socket errors on the way to a database server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * node-postgres reports a lost or never-made connection as a plain Error without a code; these
 * messages are its stable wording for it (pg's client.js and pg-pool).
 */
const PG_CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended)/;

/**
 * True when an exception comes from the storage backend being unavailable or failing (SQLite,
 * PostgreSQL, the network to it): the request was fine and nothing was applied, so the client
 * may retry, on this node later or on another one.
 */
export function isStorageFailure(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  if (e.name === 'SqliteError') return true;
  if (typeof e.code === 'string') {
    if (e.code.startsWith('SQLITE_') || NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code)) {
      return true;
    }
  }
  if (typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) return true;
  // AggregateError (a host with several addresses, all refused) and wrapped errors.
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0 && inner.every((i) => isStorageFailure(i, depth + 1))) {
    return true;
  }
  return e.cause !== undefined && isStorageFailure(e.cause, depth + 1);
}

/** Maps an unexpected failure to a wire error without leaking internals. Nothing was applied. */
export function failureOf(err: unknown): SyncError {
  return isStorageFailure(err)
    ? syncError('storage_unavailable', 'storage failed; nothing was applied, retry later')
    : syncError('internal', 'internal error; nothing was applied, retry later');
}
