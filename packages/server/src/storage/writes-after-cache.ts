import type { ClientId } from '@syncline/protocol';
import { recordKey as keyOf } from './postgres-write-buffer.js';
import type { RecordKey, StoredHistoryEntry, WritesAfter } from './storage.js';

/**
 * `writesAfter` answers read ahead in one statement (`PgTx.prefetchRecords`), kept for the rest
 * of the transaction while they still hold: the transaction holds the scope's lock, so only its
 * own writes can change a record's history, and appending one forgets the record's answers. A
 * savepoint that rolls back forgets every answer (the database may have lost writes they saw).
 */
export class WritesAfterCache {
  /** Per record: per `after` version, the client asked for and the answer. */
  readonly #answers = new Map<string, Map<number, Kept>>();

  /** Keeps a database answer: the first later entry's prevVersion (null: none) and `others`. */
  held(
    key: RecordKey,
    after: number,
    clientId: ClientId,
    row: { first_prev: number | null; others: boolean },
  ): void {
    const k = recordKey(key);
    let byAfter = this.#answers.get(k);
    if (!byAfter) this.#answers.set(k, (byAfter = new Map<number, Kept>()));
    const answer = {
      reaches: row.first_prev !== null && Number(row.first_prev) === after,
      others: row.others,
    };
    byAfter.set(after, { clientId, answer });
  }

  /** The kept answer for exactly this question, or undefined. */
  answer(key: RecordKey, after: number, clientId: ClientId): WritesAfter | undefined {
    const kept = this.#answers.get(recordKey(key))?.get(after);
    return kept && kept.clientId === clientId ? kept.answer : undefined;
  }

  /** The transaction appended history to this record: its kept answers may be wrong now. */
  forget(entry: StoredHistoryEntry): void {
    this.#answers.delete(recordKey(entry));
  }

  clear(): void {
    this.#answers.clear();
  }
}

interface Kept {
  readonly clientId: ClientId;
  readonly answer: WritesAfter;
}

const recordKey = (k: RecordKey): string => keyOf(k.scope, k.collection, k.id);
