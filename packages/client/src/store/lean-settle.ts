// The lean settle of a push's answer: when every result is `applied` (the usual answer) or
// `merged` (the server combined it with a concurrent write), only the outbox, the records' metas,
// the cursors and the rows of merged records change. Two waves over those stores (and the
// conflicts store when an `inc` may add counters to an open conflict): the answered entries
// removed with one range delete and, placed after it so they see the outbox without them, the
// reads (metas, the entries each record still has, the scopes' rows); then every write at once,
// committed (`commitAfter`). An `applied` record's row already shows what the server confirms; a
// merged one's row becomes the server's value with its remaining entries replayed.
// Any other answer (a conflict, a rejection, a duplicate, a discarded entry) takes the full
// path, `settleResults`, whose outcome this one equals for such a batch.
import type { DBCoreKeyRange, DBCoreTransaction, Dexie } from 'dexie';
import type { MutationResult, ScopeId } from '@syncline/protocol';
import { commitAfter, mayFailLate } from './final-wave.js';
import { pendingOf, recordKeyOf, RecordRows } from './record-rows.js';
import { replay } from './replay.js';
import {
  SYNCLINE_TABLES,
  type ConflictEntry,
  type OutboxEntry,
  type RecordMeta,
  type ScopeRow,
} from './schema.js';
import {
  answeredCount,
  answeredOf,
  confirm,
  loadMetas,
  rewriteSettled,
  withCounters,
  worksOf,
  type SettleReport,
} from './settle-work.js';

const { outbox: OUTBOX, records: RECORDS, scopes: SCOPES, conflicts: CONFLICTS } = SYNCLINE_TABLES;

/**
 * Whether a push's answer may settle on the lean path (see the header): `synced` tells whether
 * a table's rows may be written (a merged record's row is).
 */
export function settlesLean(
  entries: readonly OutboxEntry[],
  results: readonly MutationResult[],
  synced: (table: string) => boolean,
): boolean {
  if (!results.every((r) => r.status === 'applied' || r.status === 'merged')) return false;
  return entries.every((e) => e.discarded !== true) && mergedTables(entries, results).every(synced);
}

/** The app tables of the records `results` answered `merged`. */
function mergedTables(entries: readonly OutboxEntry[], results: readonly MutationResult[]): string[] {
  const merged = new Set<number>(results.filter((r) => r.status === 'merged').map((r) => r.mid));
  return [...new Set(entries.filter((e) => merged.has(e.mid)).map((e) => e.table))];
}

/** The stores a lean settle of `entries` answered by `results` opens: only these. */
export function leanSettleStores(
  entries: readonly OutboxEntry[],
  results: readonly MutationResult[],
): string[] {
  const incs = entries.some((e) => e.mutation.op === 'inc');
  return [OUTBOX, RECORDS, SCOPES, ...(incs ? [CONFLICTS] : []), ...mergedTables(entries, results)];
}

/**
 * Settles an answer of `applied` and `merged` results inside a read-write transaction over
 * `leanSettleStores`, and moves cursors in the same transaction: `move` gets the stored rows of
 * `scopes` (in order) and returns the rows to write.
 */
export async function leanSettle(
  db: Dexie,
  tx: IDBTransaction,
  entries: readonly OutboxEntry[],
  results: readonly MutationResult[],
  spans: ReadonlyMap<number, number>,
  scopes: readonly ScopeId[],
  move: (rows: readonly (ScopeRow | undefined)[]) => readonly ScopeRow[],
): Promise<SettleReport> {
  const outbox = db.table<OutboxEntry, number>(OUTBOX);
  const conflicts = db.table<ConflictEntry, number>(CONFLICTS);
  const answered = answeredOf(entries, results, spans);
  const works = [...worksOf(answered).values()];
  const mids = answered.flatMap((a) => a.covered.map((e) => e.mid)).sort((a, b) => a - b);

  // Wave 1. The delete first: the counts placed after it see the outbox without those entries.
  const first = mids[0];
  const last = mids[mids.length - 1];
  let deleted: Promise<unknown> = Promise.resolve();
  if (first !== undefined && last !== undefined) {
    // Dense mids: every outbox entry in the range is answered (mids are never reused), so one
    // range delete does (through DBCore: `Collection.delete` would count the range first).
    // Otherwise one delete per entry, in the same wave.
    if (last - first + 1 === mids.length) {
      // `DBCoreRangeType.Range` (a const enum Dexie declares but does not export as a value).
      const range = {
        type: 2,
        lower: first,
        upper: last,
        lowerOpen: false,
        upperOpen: false,
      } as DBCoreKeyRange;
      const trans = tx as unknown as DBCoreTransaction; // Dexie's DBCore transaction is the IDB one
      deleted = db.core.table(OUTBOX).mutate({ trans, type: 'deleteRange', range });
    } else deleted = outbox.bulkDelete(mids);
  }
  // Each record's incremented fields, known before the reads: its open conflicts are read too.
  const byRecord = new Map(works.map((w) => [recordKeyOf(w.table, w.id), w]));
  const workOf = (entry: OutboxEntry) => byRecord.get(recordKeyOf(entry.table, entry.key))!;
  for (const { entry, covered } of answered) {
    const w = workOf(entry);
    for (const e of covered) if (e.mutation.op === 'inc') w.incs.add(e.mutation.field);
  }
  const withIncs = works.filter((w) => w.incs.size > 0);
  // A merged record's row is rebuilt from its remaining entries; the others need only how many.
  const merged = new Set(answered.filter((a) => a.r.status === 'merged').map((a) => workOf(a.entry)));
  const [, metas, remaining, stored, open] = await Promise.all([
    deleted,
    db
      .table<RecordMeta, [string, string]>(RECORDS)
      .bulkGet(works.map((w): [string, string] => [w.table, w.id])),
    Promise.all(
      works.map((w) =>
        merged.has(w)
          ? pendingOf(db, w.table, w.id)
          : outbox.where('[table+key]').equals([w.table, w.id]).count(),
      ),
    ),
    scopes.length > 0 ? db.table<ScopeRow, ScopeId>(SCOPES).bulkGet([...scopes]) : [],
    Promise.all(withIncs.map((w) => conflicts.where('[table+id]').equals([w.table, w.id]).toArray())),
  ]);
  loadMetas(works, metas);

  // Wave 2: what `settleResults` would write for these answers.
  for (const { r, entry, covered } of answered) {
    const w = workOf(entry);
    const lastMid = covered[covered.length - 1]!.mid;
    if (r.status === 'merged') {
      w.onlyApplied = false;
      confirm(w, r.record.scope, r.record.version, r.record.value, lastMid);
    } else if (r.status === 'applied' && w.meta && r.version > w.meta.version) {
      confirm(w, entry.mutation.scope, r.version, replay(w.confirmed ?? null, covered), lastMid);
    }
  }
  const rows = new RecordRows(db);
  works.forEach((w, i) => rewriteSettled(rows, w, remaining[i]!));
  const counters = withCounters(open.flat(), withIncs);
  const cursorRows = move(stored);
  const late = rows.tables().some((t) => mayFailLate(db, t));
  await commitAfter(tx, rows.requests() + cursorRows.length + counters.length, late, () => [
    ...rows.place(),
    ...(cursorRows.length > 0 ? [db.table<ScopeRow, ScopeId>(SCOPES).bulkPut([...cursorRows])] : []),
    ...(counters.length > 0 ? [conflicts.bulkPut(counters)] : []),
  ]);
  return { applied: answeredCount(results, answered), conflicts: 0, rejections: 0 };
}
