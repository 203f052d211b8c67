import {
  encodeRecord,
  syncError,
  type AppObject,
  type JsonObject,
  type JsonValue,
  type QueryClause,
  type QueryOrder,
  type QuerySourceError,
  type ScopeId,
} from '@syncline/protocol';
import type { Principal } from '../auth/auth.js';
import type { Timers } from '../ops/timers.js';

/** What an external source is asked: the query as the client sent it (values encoded). */
export interface SourceQuery {
  readonly scope: ScopeId;
  readonly collection: string;
  readonly where: readonly QueryClause[];
  readonly orderBy: QueryOrder | undefined;
  /** The page size: the source need return no more than this many rows after `after`. */
  readonly limit: number;
  /** Where the page starts (exclusive): the `orderBy` value and id of the previous page's last row. */
  readonly after: { readonly value: JsonValue | undefined; readonly id: string } | undefined;
}

/** What an external source gets besides the query. */
export interface SourceContext {
  /** The principal asking (already allowed to `pull` the scope). */
  readonly principal: Principal;
  /** Aborted when the source's timeout passes: stop work, the answer is no longer awaited. */
  readonly signal: AbortSignal;
}

/** One row of an external source: an id unique within the source, and the row's value. */
export interface SourceRow {
  readonly id: string;
  /** A plain object of app values (JSON, `Date`, `Uint8Array`, `ArrayBuffer`). */
  readonly value: AppObject;
}

/**
 * An external source a read-through query also consults, beside Syncline's own records: an
 * archive, another database, a view. The server filters, orders and pages what it returns
 * (so it may return more than asked), and marks each row with the source's name.
 */
export interface QuerySource {
  /** Collections this source answers for; every collection when omitted. */
  readonly collections?: readonly string[];
  /** How long to wait for it (default 2000 ms); a slower answer makes the page `partial`. */
  readonly timeoutMs?: number;
  /** The rows for a query. A throw or a rejection makes the page `partial`. */
  readonly query: (
    query: SourceQuery,
    ctx: SourceContext,
  ) => readonly SourceRow[] | Promise<readonly SourceRow[]>;
}

/** A source's rows, encoded, or why there are none. */
export type SourceAnswer =
  | { readonly ok: true; readonly rows: readonly { id: string; value: JsonObject }[] }
  | { readonly ok: false; readonly error: QuerySourceError };

export const DEFAULT_SOURCE_TIMEOUT_MS = 2000;

/**
 * Asks one source, bounded by its timeout: never rejects and never waits longer than the
 * timeout (the source's late answer is dropped; its `signal` is aborted).
 */
export function askSource(
  name: string,
  source: QuerySource,
  query: SourceQuery,
  principal: Principal,
  timers: Timers,
): Promise<SourceAnswer> {
  const timeoutMs = source.timeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS;
  const abort = new AbortController();
  const failed = (message: string): SourceAnswer => ({
    ok: false,
    error: { source: name, error: syncError('source_unavailable', `source "${name}": ${message}`) },
  });
  return new Promise<SourceAnswer>((resolve) => {
    const timer = timers.setTimeout(() => {
      abort.abort();
      resolve(failed(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const settle = (answer: SourceAnswer) => {
      timers.clearTimeout(timer);
      resolve(answer);
    };
    Promise.resolve()
      .then(() => source.query(query, { principal, signal: abort.signal }))
      .then(
        (rows) => settle(encodeRows(rows, failed)),
        (err: unknown) => settle(failed(err instanceof Error ? err.message : String(err))),
      );
  });
}

function encodeRows(rows: unknown, failed: (message: string) => SourceAnswer): SourceAnswer {
  if (!Array.isArray(rows)) return failed('did not return an array of rows');
  const out: { id: string; value: JsonObject }[] = [];
  for (const row of rows as unknown[]) {
    const { id, value } = (typeof row === 'object' && row !== null ? row : {}) as Partial<SourceRow>;
    if (typeof id !== 'string' || id.length === 0) return failed('a row has no string id');
    const enc = encodeRecord(value);
    if (!enc.ok) return failed(`row "${id}": ${enc.message} at ${enc.path}`);
    out.push({ id, value: enc.value });
  }
  return { ok: true, rows: out };
}
