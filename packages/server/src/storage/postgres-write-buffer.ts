import type { ClientRow, StoredHistoryEntry, StoredRecord } from './storage.js';
import { JsonTexts } from './json-text.js';

/**
 * The writes of one PostgreSQL transaction that have not been sent yet. A push used to cost a
 * round trip per record, per history entry and for the client row; buffered, they go out as one
 * statement (`PgStatements.flush`) when the transaction commits or opens a savepoint, or when a
 * read needs the database to hold them.
 *
 * The transaction's reads of records and client rows are answered from here first, so they still
 * see its own writes. A record or client written twice keeps its last state only (one upsert may
 * not touch a row twice). Values are serialized when written, once for record and history.
 */
export class PgWriteBuffer {
  readonly #records = new Map<string, { record: StoredRecord; text: string | null }>();
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

  /** The buffered state of a record, or undefined when the database has its latest write. */
  record(scope: string, collection: string, id: string): StoredRecord | undefined {
    return this.#records.get(recordKey(scope, collection, id))?.record;
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

  /** Forgets every buffered write (a savepoint rolled back). */
  clear(): void {
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
    const c = [...this.#clients.values()].map((x) => [x.clientId, x.userId, x.lastMid]);
    const params = [
      ...columns(h, 13),
      heads.map((x) => x.scope),
      heads.map((x) => x.head),
      ...columns(r, 8),
      ...columns(c, 3),
    ];
    this.clear();
    return params;
  }
}

function recordKey(scope: string, collection: string, id: string): string {
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
