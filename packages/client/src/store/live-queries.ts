// The live views of Syncline's own tables that tabs keep open (status counts, the outbox, the
// conflict and rejection inboxes, the leader's notice of queued writes), each read in one
// committed-at-once transaction (see `live-read.ts` for why not Dexie's `liveQuery`).
import { Dexie } from 'dexie';
import type { Observable } from 'rxjs';
import type { LocalCounts } from './client-queries.js';
import { committedRead, liveRead } from './live-read.js';
import {
  SYNCLINE_TABLES,
  type ConflictEntry,
  type OutboxEntry,
  type RejectionEntry,
  type ScopeRow,
} from './schema.js';

const { outbox: OUTBOX, conflicts: CONFLICTS, rejections: REJECTIONS, scopes: SCOPES } = SYNCLINE_TABLES;
const COUNT_STORES = [OUTBOX, CONFLICTS, REJECTIONS, SCOPES] as const;

/** Outbox, conflict and rejection counts and the scopes' cursors, in one transaction. */
export function readCounts(db: Dexie): Promise<LocalCounts> {
  return committedRead(db, COUNT_STORES, (tx) => {
    const outbox = tx.objectStore(OUTBOX);
    const pending = outbox.count();
    const first = outbox.getAll(null, 1); // the oldest entry: keys are mids, in queue order
    const conflicts = tx.objectStore(CONFLICTS).count();
    const rejections = tx.objectStore(REJECTIONS).count();
    const scopes = tx.objectStore(SCOPES).getAll();
    return () => ({
      pending: pending.result,
      oldest: (first.result[0] as OutboxEntry | undefined)?.createdAt ?? null,
      conflicts: conflicts.result,
      rejections: rejections.result,
      scopes: Object.fromEntries(
        (scopes.result as ScopeRow[]).map((r) => [r.scope, { cursor: r.cursor, synced: r.synced === true }]),
      ),
    });
  });
}

/** Every entry of one of Syncline's mid-keyed stores, in mid order. */
function allByMid<E>(db: Dexie, store: string): Promise<E[]> {
  return committedRead(db, [store], (tx) => {
    const all = tx.objectStore(store).getAll();
    return () => all.result as E[];
  });
}

/** The newest outbox entry's mid, or undefined when the outbox is empty. */
export function readLastOutboxMid(db: Dexie): Promise<number | undefined> {
  return committedRead(db, [OUTBOX], (tx) => {
    let last: number | undefined;
    const req = tx.objectStore(OUTBOX).openKeyCursor(null, 'prev');
    req.onsuccess = () => {
      last = req.result?.primaryKey as number | undefined;
    };
    return () => last;
  });
}

/** Which outbox mids a wait is about: all up to a mid, or exactly one. */
export type MidSelection = { readonly upTo: number } | { readonly only: number };

/** The mids still in the outbox among those `which` selects. */
export function readOutboxMids(db: Dexie, which: MidSelection): Promise<number[]> {
  // Dexie's IDBKeyRange: the global one, or what the app gave Dexie.
  const { IDBKeyRange: Range } = Dexie.dependencies;
  const range = 'upTo' in which ? Range.upperBound(which.upTo) : Range.only(which.only);
  return committedRead(db, [OUTBOX], (tx) => {
    const keys = tx.objectStore(OUTBOX).getAllKeys(range);
    return () => keys.result as number[];
  });
}

export const liveCounts = (db: Dexie): Observable<LocalCounts> =>
  liveRead(db, COUNT_STORES, () => readCounts(db));
export const liveOutbox = (db: Dexie): Observable<OutboxEntry[]> =>
  liveRead(db, [OUTBOX], () => allByMid<OutboxEntry>(db, OUTBOX));
export const liveConflicts = (db: Dexie): Observable<ConflictEntry[]> =>
  liveRead(db, [CONFLICTS], () => allByMid<ConflictEntry>(db, CONFLICTS));
export const liveRejections = (db: Dexie): Observable<RejectionEntry[]> =>
  liveRead(db, [REJECTIONS], () => allByMid<RejectionEntry>(db, REJECTIONS));
export const liveLastOutboxMid = (db: Dexie): Observable<number | undefined> =>
  liveRead(db, [OUTBOX], () => readLastOutboxMid(db));
export const liveOutboxMids = (db: Dexie, which: MidSelection): Observable<number[]> =>
  liveRead(db, [OUTBOX], () => readOutboxMids(db, which));
