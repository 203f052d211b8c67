import type { Dexie, Table } from 'dexie';
import type { MutationResult, RecordState } from '@syncline/protocol';
import { pendingMidsOf, pendingOf, recordKeyOf, RecordRows } from './record-rows.js';
import { replay } from './replay.js';
import {
  SYNCLINE_TABLES,
  type ConflictEntry,
  type OutboxEntry,
  type RecordMeta,
  type RejectionEntry,
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
  type Work,
} from './settle-work.js';

export type { SettleReport } from './settle-work.js';

/**
 * Settles a push's results inside the caller's transaction: removes the answered mutations
 * from the outbox, makes each result's server state the record's confirmed state (unless a
 * newer one is known), stores conflicts and rejections, and rewrites each touched record once
 * as its confirmed value with its remaining pending mutations replayed on top.
 *
 * The outcome is the same as settling the results one by one in mid order (each step only
 * moves a record's confirmed state forward, and the visible value only depends on the final
 * confirmed state and the final outbox), but with a few bulk IndexedDB requests per batch
 * instead of about ten per result: a 500-mutation push answered in one round of requests.
 */
export async function settleResults(
  db: Dexie,
  entries: readonly OutboxEntry[],
  results: readonly MutationResult[],
  now: () => number,
  /** The last mid each coalesced mutation covered, by its first mid (see `coalesce.ts`). */
  spans: ReadonlyMap<number, number> = new Map(),
): Promise<SettleReport> {
  const records = db.table<RecordMeta, [string, string]>(SYNCLINE_TABLES.records);
  const outbox = db.table<OutboxEntry, number>(SYNCLINE_TABLES.outbox);
  const conflictsTable = db.table<ConflictEntry, number>(SYNCLINE_TABLES.conflicts);
  // Discarded entries (see `discard.ts`) only consume their mids: their answers change nothing.
  const discarded = entries.filter((e) => e.discarded === true && results.some((r) => r.mid === e.mid));
  if (discarded.length > 0) await outbox.bulkDelete(discarded.map((e) => e.mid));
  const answered = answeredOf(entries, results, spans);
  if (answered.length === 0) return { applied: results.length, conflicts: 0, rejections: 0 };

  const touched = worksOf(answered);
  const works = [...touched.values()];
  const [, metas] = await Promise.all([
    outbox.bulkDelete(answered.flatMap((a) => a.covered.map((e) => e.mid))),
    records.bulkGet(works.map((w): [string, string] => [w.table, w.id])),
  ]);
  loadMetas(works, metas);

  const confirmRecord = (w: Work, r: RecordState, mid: number) =>
    confirm(w, r.scope, r.version, r.value, mid);

  let conflicts = 0;
  let rejections = 0;
  const rejected: RejectionEntry[] = [];
  for (const { r, entry, covered } of answered) {
    const w = touched.get(recordKeyOf(entry.table, entry.key))!;
    const scope = entry.mutation.scope;
    const lastMid = covered[covered.length - 1]!.mid;
    if (r.status !== 'applied') w.onlyApplied = false;
    for (const e of covered)
      if (e.mutation.op === 'inc' && r.status !== 'rejected' && r.status !== 'conflict')
        w.incs.add(e.mutation.field);
    switch (r.status) {
      case 'applied':
        if (w.meta && r.version > w.meta.version)
          confirm(w, scope, r.version, replay(w.confirmed ?? null, covered), lastMid);
        break;
      case 'merged':
        confirmRecord(w, r.record, lastMid);
        break;
      case 'conflict': {
        // The confirmed copy may already be the server's current value (a pull runs before
        // the push): the base is the value at the mutation's base version, from the server.
        const base = r.base !== undefined ? r.base : (w.confirmed ?? null);
        // Several offline edits of one record conflict one after another: keep one conflict
        // per record whose "mine" accumulates them, so resolving it keeps every edit. A
        // coalesced mutation conflicts once, with every edit it covers in "mine".
        const open = await conflictsTable.where('[table+id]').equals([entry.table, entry.key]).first();
        await conflictsTable.put(
          open
            ? { ...open, mine: replay(open.mine, covered), theirs: r.record }
            : {
                mid: entry.mid,
                table: entry.table,
                id: entry.key,
                scope,
                base,
                mine: replay(base, covered),
                theirs: r.record,
                mutation: entry.mutation,
                createdAt: now(),
              },
        );
        if (!open) conflicts++;
        confirmRecord(w, r.record, lastMid);
        break;
      }
      case 'rejected':
        // Each write the app made is reported (and rolled back) on its own, with the one error.
        for (const e of covered)
          rejected.push({
            mid: e.mid,
            table: e.table,
            id: e.key,
            mutation: e.mutation,
            error: r.error,
            at: now(),
          });
        rejections += covered.length;
        break;
      case 'duplicate':
        break;
    }
  }

  await markCounters(
    conflictsTable,
    works.filter((w) => w.incs.size > 0),
  );

  // Rewrite every touched record that has a confirmed state: meta, then the visible value.
  // Records only `applied` need to know whether mutations remain, not which (no app rewrite).
  const live = works.filter((w) => w.meta !== undefined && w.confirmed !== undefined);
  const remaining = await Promise.all(
    live.map((w): Promise<readonly (OutboxEntry | number)[]> =>
      w.onlyApplied ? pendingMidsOf(db, w.table, w.id) : pendingOf(db, w.table, w.id),
    ),
  );
  const rows = new RecordRows(db);
  live.forEach((w, i) => rewriteSettled(rows, w, remaining[i]!));
  await Promise.all([
    rows.flush(),
    rejected.length > 0
      ? db.table<RejectionEntry, number>(SYNCLINE_TABLES.rejections).bulkPut(rejected)
      : undefined,
  ]);
  // Counted per outbox entry: a coalesced result answers several.
  const total = answeredCount(results, answered);
  return { applied: total - conflicts - rejections, conflicts, rejections };
}

/**
 * Adds the fields this batch incremented to the open conflict of their record, whether the inc
 * came before or after the conflicting change: the server adds increments up on its own, so the
 * inbox shows those fields as merged and a resolution never writes them (it would overwrite
 * another device's increments with a stale count).
 */
async function markCounters(conflicts: Table<ConflictEntry, number>, works: readonly Work[]): Promise<void> {
  if (works.length === 0) return;
  const open = await conflicts
    .where('[table+id]')
    .anyOf(works.map((w) => [w.table, w.id]))
    .toArray();
  if (open.length === 0) return;
  const changed = withCounters(open, works);
  if (changed.length > 0) await conflicts.bulkPut(changed);
}
