// The one-wave apply of server changes: the lean apply (`lean-apply.ts`) with its read wave and
// its write wave placed together, on a guess of what the reads will return.
//
// The lean apply reads the scope's row and the records' metas, then writes. Both reads almost
// always return what this tab already knows: the row it wrote itself in its last apply, settle
// or read (only the leader tab applies, and its `LocalStore` remembers each scope's row), and
// metas that do not matter (records without pending mutations and with older versions: the
// writes are the same whatever they hold). So the writes are planned on the guessed row and on
// "no meta", and placed right behind the reads in one wave. IndexedDB runs a transaction's
// requests in order, so the reads see the stored values, and the transaction cannot commit
// while the writes behind them are pending: the reads' results are checked before anything can
// be kept.
// - all as guessed: commit (at once, as `commitAfter` does);
// - a record's meta makes only its meta differ (it was written from another scope, or records a
//   higher `includedMid`: this client's mutations the value already holds): the exact metas,
//   collected from the stored ones, are put behind the first ones (the later put wins; the
//   visible rows are the same, see below), then commit;
// - anything else (the stored row is not the guess, a record may have pending mutations, a
//   stored version is not older): `GuessedWrong` aborts the transaction, nothing is kept, and the
//   caller applies the batch on the two-wave path (or, for pending mutations, on the full one).
//
// Why the rows match whenever the metas only differ in scope or `includedMid`: a record without
// a confirmed copy has no pending mutations (`lean-apply.ts`), so its visible row is the server
// value itself, whatever the meta says; and a state is skipped only by a stored version at
// least as new, which sends the batch back.
import type { Dexie } from 'dexie';
import type { ScopeId } from '@syncline/protocol';
import { collectServerStates } from './apply-changes.js';
import type { ApplyPlan } from './lean-apply.js';
import { commitPlaced, mayFailLate, placeWave } from './final-wave.js';
import { recordKeyOf, RecordRows } from './record-rows.js';
import { SYNCLINE_TABLES, type RecordMeta, type ScopeRow } from './schema.js';

/** The stored scope row or a record's meta was not as guessed: the transaction is aborted. */
export class GuessedWrong extends Error {
  /** `pending`: a record may have pending mutations (only the full path applies it). */
  constructor(readonly reason: 'row' | 'meta' | 'pending') {
    super(`the one-wave apply guessed the stored ${reason} wrong`);
    this.name = 'GuessedWrong';
  }
}

/** Whether two stored scope rows (undefined: none) are the same. */
export function sameScopeRow(a: ScopeRow | undefined, b: ScopeRow | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.scope === b.scope &&
    a.cursor === b.cursor &&
    a.horizon === b.horizon &&
    (a.synced === true) === (b.synced === true)
  );
}

/**
 * Inside a read-write transaction over `leanApplyStores(...)`: applies `planned` (the plan made
 * on `guess`, the scope's stored row as this tab last knew it; undefined: none) in one wave, as
 * the header says. Throws `GuessedWrong` (the transaction aborts) when the guess was wrong.
 */
export async function guessedApply<R>(
  db: Dexie,
  tx: IDBTransaction,
  scope: ScopeId,
  guess: ScopeRow | undefined,
  planned: ApplyPlan<R>,
): Promise<{ readonly result: R; readonly applied: number }> {
  const scopes = db.table<ScopeRow, ScopeId>(SYNCLINE_TABLES.scopes);
  const metaTable = db.table<RecordMeta, [string, string]>(SYNCLINE_TABLES.records);
  const { states, row, result } = planned;
  // Per record, the first state that meets its stored meta.
  const first = new Map<string, { readonly version: number; readonly includedMid: number }>();
  const keys: [string, string][] = [];
  for (const s of states) {
    const k = recordKeyOf(s.table, s.id);
    if (first.has(k)) continue;
    first.set(k, s);
    keys.push([s.table, s.id]);
  }
  const rows = new RecordRows(db);
  const applied = collectServerStates(rows, scope, states, new Map(), new Map(), false);
  const late = rows.tables().some((t) => mayFailLate(db, t));
  const reads = Promise.all([scopes.get(scope), keys.length > 0 ? metaTable.bulkGet(keys) : []]);
  const wave = placeWave(tx, rows.requests() + (row ? 1 : 0), () => [
    ...rows.place(),
    ...(row ? [scopes.put(row)] : []),
  ]);
  // Their outcome is the transaction's; an abort must not surface as unhandled rejections.
  for (const w of wave.writes) w.catch(noop);
  const [stored, metas] = await reads;
  if (!sameScopeRow(stored, guess)) throw new GuessedWrong('row');
  let exact = true;
  const known = new Map<string, RecordMeta | undefined>();
  keys.forEach(([table, id], i) => {
    const meta = metas[i];
    if (meta === undefined) return;
    const s = first.get(recordKeyOf(table, id))!;
    if (meta.confirmed !== undefined) throw new GuessedWrong('pending');
    if (meta.version >= s.version) throw new GuessedWrong('meta');
    if (meta.scope !== scope || meta.includedMid > s.includedMid) exact = false;
    known.set(recordKeyOf(table, id), meta);
  });
  if (exact) {
    await commitPlaced(tx, wave, late);
    return { result, applied };
  }
  // The rows are the same (see the header): only the metas are put again.
  const fixed = new RecordRows(db);
  collectServerStates(fixed, scope, states, known, new Map(), false);
  const again = placeWave(tx, fixed.metaRequests(), () => fixed.placeMetas());
  await commitPlaced(
    tx,
    { writes: [...wave.writes, ...again.writes], complete: wave.complete && again.complete },
    late,
  );
  return { result, applied };
}

function noop(): void {}
