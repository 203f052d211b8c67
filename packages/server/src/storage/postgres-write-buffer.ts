import { JsonTexts } from './rows.js';
import type { ClientRow, RecordKey, StoredHistoryEntry, StoredRecord } from './storage.js';

/**
 * The writes of one PostgreSQL transaction that have not been sent yet. A push used to cost a
 * round trip per record, per history entry and for the client row; buffered, they go out as one
 * statement (`PgStatements.flush`) when the transaction commits or opens a savepoint, or when a
 * read needs the database to hold them.
 *
 * The transaction's reads of records and client rows are answered from here first, so they still
 * see its own writes. A record or client written twice keeps its last state only (one upsert may
 * not touch a row twice). Values are serialized when written, once for record and history.
 *
 * It also remembers records the database holds (read ahead by `prefetchRecords`, or written by a
 * flush): the transaction holds their scopes' locks, so no one else can change them meanwhile.
 * A savepoint that rolls back forgets all of it, since the database may have lost some.
 */
export class PgWriteBuffer {
  readonly #records = new Map<string, { record: StoredRecord; text: string | null }>();
  /** Records as the database holds them in this transaction; null: it holds none. */
  readonly #held = new Map<string, StoredRecord | null>();
  readonly #history: { entry: StoredHistoryEntry; text: string | null }[] = [];
  /** Records with a buffered history entry: reading their history needs a flush first. */
  readonly #historyKeys = new Set<string>();
  readonly #clients = new Map<string, ClientRow>();
  readonly #json = new JsonTexts();

  get empty(): boolean {
    return this.#records.size === 0 && this.#history.length === 0 && this.#clients.size === 0;
  }

  putRecord(record: StoredRecord): void {
    const key = recordKey(record.scope, record.collection, record.id);
    this.#records.set(key, { record, text: this.#json.of(record.value) });
  }

  /**
   * The record as this transaction knows it — null when known to be absent — or undefined when
   * only the database can tell.
   */
  record(scope: string, collection: string, id: string): StoredRecord | null | undefined {
    const key = recordKey(scope, collection, id);
    return this.#records.get(key)?.record ?? this.#held.get(key);
  }

  /** Records read ahead from the database (`found`), and which of `keys` it does not hold. */
  held(keys: readonly RecordKey[], found: readonly StoredRecord[]): void {
    for (const k of keys) this.#held.set(recordKey(k.scope, k.collection, k.id), null);
    for (const r of found) this.#held.set(recordKey(r.scope, r.collection, r.id), r);
  }

  appendHistory(entry: StoredHistoryEntry): void {
    this.#history.push({ entry, text: this.#json.of(entry.value) });
    this.#historyKeys.add(recordKey(entry.scope, entry.collection, entry.id));
  }

  hasHistoryOf(scope: string, collection: string, id: string): boolean {
    return this.#historyKeys.has(recordKey(scope, collection, id));
  }

  putClient(row: ClientRow): void {
    this.#clients.set(row.clientId, row);
  }

  client(clientId: string): ClientRow | undefined {
    return this.#clients.get(clientId);
  }

  /** Forgets every buffered write and what the database holds (a savepoint rolled back). */
  clear(): void {
    this.#forgetWrites();
    this.#held.clear();
  }

  #forgetWrites(): void {
    this.#records.clear();
    this.#history.length = 0;
    this.#historyKeys.clear();
    this.#clients.clear();
  }

  /** The flush statement's parameters for the buffered writes and `heads`; the buffer empties. */
  take(heads: readonly { scope: string; head: number }[]): unknown[] {
    const h = this.#history.map(({ entry: e, text }) => [
      e.scope,
      e.collection,
      e.id,
      e.version,
      e.prevVersion,
      e.op,
      text,
      e.clientId,
      e.mid,
      e.userId,
      e.serverTime,
      e.conflict === null ? null : JSON.stringify(e.conflict),
      e.restoredFrom,
    ]);
    const r = [...this.#records.values()].map(({ record: x, text }) => [
      x.scope,
      x.collection,
      x.id,
      x.version,
      text,
      x.clientId,
      x.mid,
      x.updatedAt,
    ]);
    // Once sent, these are what the database holds.
    for (const [key, { record }] of this.#records) this.#held.set(key, record);
    const c = [...this.#clients.values()].map((x) => [x.clientId, x.userId, x.lastMid]);
    const params = [
      ...columns(h, 13),
      heads.map((x) => x.scope),
      heads.map((x) => x.head),
      ...columns(r, 8),
      ...columns(c, 3),
    ];
    this.#forgetWrites();
    return params;
  }
}

/** One record's key in the push's maps (also `WritesAfterCache`'s). */
export function recordKey(scope: string, collection: string, id: string): string {
  // PostgreSQL text cannot hold NUL, so no stored key contains the separator.
  return `${scope}\u0000${collection}\u0000${id}`;
}

/** Rows to parallel column arrays (what unnest() takes apart again). */
function columns(rows: readonly unknown[][], width: number): unknown[][] {
  const out: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let j = 0; j < width; j++) out[j]![i] = row[j];
  }
  return out;
}
