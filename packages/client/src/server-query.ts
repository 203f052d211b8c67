// Read-through queries: data the server holds that this device may not sync (another team's
// board, an archive), asked page by page over the same sockets as history() and serverHash().
import {
  QUERY_LIMITS,
  asScopeId,
  encodeKeyPath,
  encodeValue,
  decodeRecord,
  type AppObject,
  type AppValue,
  type JsonValue,
  type QueryClause,
  type QueryRequest,
  type QueryResponse,
} from '@syncline/protocol';
import type { AppKey } from './app-values.js';
import { request } from './engine/transport.js';
import { clientError, fromSyncError, type SynclineErrorData } from './errors.js';
import { withSocket, type RequestContext } from './server-requests.js';
import { appKeyOf } from './store/synced-keys.js';

/** One condition of a query: `field op value`, or `field in values`. Fields may be dotted (`"meta.team"`). */
export type QueryCondition =
  | {
      readonly field: string;
      readonly op: 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte';
      readonly value: AppValue;
    }
  | { readonly field: string; readonly op: 'in'; readonly values: readonly AppValue[] };

/** What `sync.query` asks the server for. */
export interface QueryOptions {
  readonly scope: string;
  readonly collection: string;
  /** Every condition must hold (AND). Values may be `Date`s and bytes, compared as the server stores them. */
  readonly where?: readonly QueryCondition[];
  /** Order by one field, then by id (by id alone when omitted). */
  readonly orderBy?: { readonly field: string; readonly direction?: 'asc' | 'desc' };
  /** Rows per page, 1 to 500. */
  readonly limit: number;
  /** The `next` cursor of the previous page. */
  readonly after?: string;
}

/** One row of a query result. */
export interface QueryResultRow {
  /** `'syncline'` for a synced record, else the name of the server's external source. */
  readonly source: string;
  /** The row's id on the wire (a record id, or the source's own id). */
  readonly id: string;
  /** A Syncline record's key as a table would hold it (the source's id for other rows). */
  readonly key: AppKey;
  /** The record's server version; null for rows of an external source. */
  readonly version: number | null;
  readonly value: AppObject;
}

/** One page of a query. */
export interface QueryResult {
  readonly rows: readonly QueryResultRow[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
  /** True when some external source failed or timed out: its rows are missing (see `errors`). */
  readonly partial: boolean;
  readonly errors: readonly { readonly source: string; readonly error: SynclineErrorData }[];
}

/**
 * One page of a read-through query, straight from the server (nothing is stored locally).
 * Online only: without a network it rejects at once with `offline`; an unreachable or silent
 * server rejects with `unreachable` within `requestTimeoutMs` (both retryable). A server
 * without queries answers `unknown_event`; a refused query keeps the server's code
 * (`forbidden`, `invalid_query`, `forbidden_key`, `invalid_message`).
 */
export async function fetchQuery(ctx: RequestContext, opts: QueryOptions): Promise<QueryResult> {
  const req = toRequest(opts);
  if (!ctx.options.network.isOnline()) {
    throw clientError('offline', 'query needs the server, and the network is down');
  }
  const res = await withSocket(ctx, (s) => request(s, 'query', req, ctx.options.requestTimeoutMs));
  if (!res.ok) throw fromSyncError(res.error);
  return fromResponse(res);
}

function toRequest(opts: QueryOptions): QueryRequest {
  const { limit } = opts;
  if (!Number.isInteger(limit) || limit < 1 || limit > QUERY_LIMITS.maxPage) {
    throw clientError(
      'invalid_argument',
      `query limit must be a whole number from 1 to ${QUERY_LIMITS.maxPage}`,
    );
  }
  const where = opts.where?.map((c): QueryClause => {
    const field = encodeKeyPath(c.field);
    return c.op === 'in'
      ? { field, op: 'in', values: c.values.map((v) => encoded(c.field, v)) }
      : { field, op: c.op, value: encoded(c.field, c.value) };
  });
  return {
    scope: asScopeId(opts.scope),
    collection: opts.collection,
    limit,
    ...(where !== undefined ? { where } : {}),
    ...(opts.orderBy !== undefined
      ? { orderBy: { ...opts.orderBy, field: encodeKeyPath(opts.orderBy.field) } }
      : {}),
    ...(opts.after !== undefined ? { after: opts.after } : {}),
  };
}

function encoded(field: string, v: AppValue): JsonValue {
  const r = encodeValue(v);
  if (!r.ok) throw clientError('invalid_argument', `query value of "${field}": ${r.message}`);
  return r.value;
}

function fromResponse(res: QueryResponse & { ok: true }): QueryResult {
  return {
    rows: res.rows.map((r) => ({
      source: r.source,
      id: r.id,
      key: r.source === 'syncline' ? appKeyOf(r.id) : r.id,
      version: r.version,
      value: decodeRecord(r.value),
    })),
    next: res.next,
    partial: res.partial,
    errors: res.errors.map((e) => ({ source: e.source, error: e.error })),
  };
}
