// The lean apply of server changes (a live message, a pull page): two waves of requests over
// only the stores the batch touches, the scope's cursor and its records' metas read together,
// then every write placed at once and committed (`commitAfter`).
//
// What it leaves to the full path (`FULL_PATH`): a record whose meta keeps a confirmed copy may
// have pending mutations, replayed on top of the new server state, and finding them needs the
// outbox, which this transaction does not hold (so that it does not wait on, nor hold up, the
// outbox's readers and writers). Records without a confirmed copy have none (the outbox
// middleware adds the copy with a record's first queued mutation, in the transaction that
// queues it, and that transaction is ordered with this one by the records store they share):
// their visible row is the server value itself.
import type { Dexie } from 'dexie';
import type { ScopeId } from '@syncline/protocol';
import { collectServerStates, type ServerState } from './apply-changes.js';
import { commitAfter, mayFailLate } from './final-wave.js';
import { recordKeyOf, RecordRows } from './record-rows.js';
import { SYNCLINE_TABLES, type RecordMeta, type ScopeRow } from './schema.js';

/** The batch touches a record that may have pending mutations: apply it on the full path. */
export const FULL_PATH = Symbol('full path');

/** What to write, decided once the stored scope row is known (in the same transaction). */
export interface ApplyPlan<R> {
  /** The server states to apply (none for a stale message or a gap). */
  readonly states: readonly ServerState[];
  /** The scope row to store, if any. */
  readonly row?: ScopeRow;
  readonly result: R;
}

/** The stores a lean apply of changes to `tables` opens: only these. */
export function leanApplyStores(tables: Iterable<string>): string[] {
  return [SYNCLINE_TABLES.scopes, SYNCLINE_TABLES.records, ...new Set(tables)];
}

/**
 * Inside a read-write transaction over `leanApplyStores(...)`: reads the scope's row and the
 * metas of `records` (every record the batch may write) in one wave, asks `plan` what to write,
 * and writes it in a second wave, committed at once. Returns the plan's result with how many
 * states changed a record and the scope's row as it leaves it, or `FULL_PATH` (having written
 * nothing) when a record to write may have pending mutations.
 */
export async function leanApply<R>(
  db: Dexie,
  tx: IDBTransaction,
  scope: ScopeId,
  records: readonly (readonly [string, string])[],
  plan: (stored: ScopeRow) => ApplyPlan<R>,
): Promise<
  { readonly result: R; readonly applied: number; readonly row: ScopeRow | undefined } | typeof FULL_PATH
> {
  const scopes = db.table<ScopeRow, ScopeId>(SYNCLINE_TABLES.scopes);
  const metaTable = db.table<RecordMeta, [string, string]>(SYNCLINE_TABLES.records);
  const [stored, metas] = await Promise.all([
    scopes.get(scope),
    records.length > 0 ? metaTable.bulkGet(records.map((r): [string, string] => [r[0], r[1]])) : [],
  ]);
  const { states, row, result } = plan(stored ?? { scope, cursor: 0, horizon: 0 });
  const known = new Map<string, RecordMeta | undefined>();
  records.forEach(([table, id], i) => {
    const k = recordKeyOf(table, id);
    if (!known.has(k)) known.set(k, metas[i]);
  });
  if (states.some((s) => known.get(recordKeyOf(s.table, s.id))?.confirmed !== undefined)) {
    // Only reads were placed: let the browser end the transaction now.
    if (typeof tx.commit === 'function') tx.commit();
    return FULL_PATH;
  }
  const rows = new RecordRows(db);
  const applied = collectServerStates(rows, scope, states, known, new Map(), false);
  const tables = rows.tables();
  await commitAfter(
    tx,
    rows.requests() + (row ? 1 : 0),
    tables.some((t) => mayFailLate(db, t)),
    () => [...rows.place(), ...(row ? [scopes.put(row)] : [])],
  );
  return { result, applied, row: row ?? stored };
}
