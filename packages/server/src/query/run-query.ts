import {
  QueryRequestSchema,
  getAtPath,
  syncError,
  validateMessage,
  type JsonObject,
  type Limits,
  type QueryRequest,
  type QueryResponse,
  type QueryRow,
  type QuerySourceError,
  type Version,
} from '@syncline/protocol';
import type { AuthHooks, Principal } from '../auth/auth.js';
import type { Timers } from '../ops/timers.js';
import type { SyncStorage } from '../storage/storage.js';
import { compareKeys, decodeCursor, encodeCursor, type RowKey } from './query-cursor.js';
import { askSource, type QuerySource, type SourceQuery } from './query-sources.js';
import { checkField, compileWhere, type RecordPredicate } from './where.js';

/** The `query` option with its defaults applied. */
export interface QueryConfig {
  /** Most records of a scope one query page reads before it is refused (`invalid_query`). */
  readonly maxScanRecords: number;
  readonly sources: Readonly<Record<string, QuerySource>>;
}

export const DEFAULT_MAX_SCAN_RECORDS = 100_000;

/** What running a query needs (a subset of the server context). */
export interface QueryDeps {
  readonly storage: SyncStorage;
  readonly auth: AuthHooks;
  readonly limits: Limits;
  readonly timers: Timers;
  readonly query: QueryConfig;
}

/** The name Syncline's own rows carry in `source`. */
export const SYNCLINE_SOURCE = 'syncline';

interface Candidate extends RowKey {
  readonly version: Version | null;
  readonly row: JsonObject;
}

/**
 * One page of a read-through query: validate, authorize as `pull`, then read Syncline's
 * records of the scope and ask every external source of the collection at the same time, and
 * merge both in the query's order after the cursor.
 *
 * Cost: Syncline's part scans the scope's live records (`liveRecords`, paged by the storage)
 * and filters them here, so a page costs O(records in the scope) reads and O(limit) memory; a
 * scope larger than `maxScanRecords` is refused rather than scanned.
 *
 * What a page sees: each page is read when it is asked for. A record written between pages
 * shows up on a later page when its position (orderBy value, id) is after the cursor and not
 * at all when it is before; records that did not move are never repeated or skipped. A record
 * whose orderBy value changes between pages may be seen twice or not at all.
 */
export async function runQuery(
  deps: QueryDeps,
  principal: Principal,
  payload: unknown,
): Promise<QueryResponse> {
  const req = validateMessage(QueryRequestSchema, payload, deps.limits);
  if (!req.ok) return req;
  const q = req.value;
  if (!(await deps.auth.authorize(principal, q.scope, 'pull'))) {
    return { ok: false, error: syncError('forbidden', `no pull access to scope "${q.scope}"`) };
  }
  const where = compileWhere(q.where ?? []);
  if (!where.ok) return where;
  const orderField = q.orderBy ? checkField(q.orderBy.field) : undefined;
  if (orderField && !orderField.ok) return orderField;
  const after = q.after !== undefined ? decodeCursor(q.after) : undefined;
  if (after && !after.ok) return after;

  const keyOf = (source: string, id: string, value: JsonObject): RowKey => ({
    source,
    id,
    value: orderField ? getAtPath(value, orderField.value) : undefined,
  });
  const page = new PageCollector(q, where.value, after?.value);

  const sourceQuery: SourceQuery = {
    scope: q.scope,
    collection: q.collection,
    where: q.where ?? [],
    orderBy: q.orderBy,
    limit: q.limit,
    after: after?.value && { value: after.value.value, id: after.value.id },
  };
  const asked = Object.entries(deps.query.sources)
    .filter(([, s]) => s.collections === undefined || s.collections.includes(q.collection))
    .map(([name, s]) => askSource(name, s, sourceQuery, principal, deps.timers).then((a) => ({ name, a })));

  let scanned = 0;
  for await (const r of deps.storage.liveRecords(q.scope)) {
    if (++scanned > deps.query.maxScanRecords) {
      return {
        ok: false,
        error: syncError(
          'invalid_query',
          `scope "${q.scope}" holds more than ${deps.query.maxScanRecords} records, the most a query scans`,
        ),
      };
    }
    if (r.collection !== q.collection || r.value === null) continue;
    page.offer({ ...keyOf(SYNCLINE_SOURCE, r.id, r.value), version: r.version, row: r.value });
  }

  const errors: QuerySourceError[] = [];
  for (const { name, a } of await Promise.all(asked)) {
    if (!a.ok) {
      errors.push(a.error);
      continue;
    }
    for (const r of a.rows) page.offer({ ...keyOf(name, r.id, r.value), version: null, row: r.value });
  }
  return { ok: true, ...page.result(), partial: errors.length > 0, errors };
}

/** Keeps the first `limit + 1` matching rows after the cursor, in order, in O(limit) memory. */
class PageCollector {
  #rows: Candidate[] = [];

  constructor(
    private readonly q: QueryRequest,
    private readonly matches: RecordPredicate,
    private readonly after: RowKey | undefined,
  ) {}

  offer(c: Candidate): void {
    if (this.after && compareKeys(c, this.after, this.q.orderBy) <= 0) return;
    if (!this.matches(c.row)) return;
    this.#rows.push(c);
    if (this.#rows.length > 2 * (this.q.limit + 1)) this.#trim();
  }

  #trim(): void {
    this.#rows.sort((a, b) => compareKeys(a, b, this.q.orderBy));
    this.#rows.length = Math.min(this.#rows.length, this.q.limit + 1);
  }

  result(): { rows: QueryRow[]; next: string | null } {
    this.#trim();
    const more = this.#rows.length > this.q.limit;
    const rows = this.#rows.slice(0, this.q.limit);
    const last = rows[rows.length - 1];
    return {
      rows: rows.map((c) => ({ source: c.source, id: c.id, version: c.version, value: c.row })),
      next: more && last ? encodeCursor(last) : null,
    };
  }
}
