// The part of settling a push's answer that both the full settle (`settle-results.ts`) and the
// lean one (`lean-settle.ts`) share: which outbox entries each result answers, and the touched
// records with their confirmed state as the results move it.
import type { JsonObject, MutationResult, ScopeId } from '@syncline/protocol';
import { recordKeyOf, type BareMeta, type RecordRows } from './record-rows.js';
import type { ConflictEntry, OutboxEntry, RecordMeta } from './schema.js';

/** What one settled batch of push results changed, for status and events. */
export interface SettleReport {
  readonly applied: number;
  readonly conflicts: number;
  readonly rejections: number;
}

/** One result with the outbox entries it answers (several for a coalesced mutation). */
export interface Answered {
  readonly r: MutationResult;
  /** The first entry it answers. */
  readonly entry: OutboxEntry;
  /** Every entry it answers, in mid order (all of one record). */
  readonly covered: readonly OutboxEntry[];
}

/** A touched record while results are folded in: its meta and confirmed value so far. */
export interface Work {
  readonly table: string;
  readonly id: string;
  meta: BareMeta | undefined;
  /** undefined: no confirmed copy (nothing to rewrite unless a result confirms a state). */
  confirmed: JsonObject | null | undefined;
  /** A result moved the confirmed state. */
  moved: boolean;
  /** Highest answered mid of this record (its entry is gone from the outbox). */
  lastAnswered: number;
  /**
   * Every answer for this record was `applied` on the confirmed copy: the new confirmed value is
   * the old one with those mutations replayed, so the visible value (confirmed + pending) is
   * exactly what the app already shows, and the app row needs no rewrite.
   */
  onlyApplied: boolean;
  /** Fields the server took an `inc` of in this batch: counters of an open conflict. */
  readonly incs: Set<string>;
}

/**
 * The entries each result answers. A coalesced mutation's one result answers every entry it
 * covers (`spans`: its last mid, by its first). Discarded entries (see `discard.ts`) answer
 * nothing: they only consume their mids.
 */
export function answeredOf(
  entries: readonly OutboxEntry[],
  results: readonly MutationResult[],
  spans: ReadonlyMap<number, number>,
): Answered[] {
  const byMid = new Map(entries.map((e) => [e.mid, e]));
  return results.flatMap((r) => {
    const covered: OutboxEntry[] = [];
    for (let mid = r.mid; mid <= (spans.get(r.mid) ?? r.mid); mid++) {
      const entry = byMid.get(mid);
      if (entry && entry.discarded !== true) covered.push(entry);
    }
    return covered.length > 0 ? [{ r, entry: covered[0]!, covered }] : [];
  });
}

/** The records the answered entries belong to, each once, with its highest answered mid. */
export function worksOf(answered: readonly Answered[]): Map<string, Work> {
  const touched = new Map<string, Work>();
  for (const entry of answered.flatMap((a) => a.covered)) {
    const k = recordKeyOf(entry.table, entry.key);
    const w = touched.get(k);
    if (w) w.lastAnswered = Math.max(w.lastAnswered, entry.mid);
    else
      touched.set(k, {
        table: entry.table,
        id: entry.key,
        meta: undefined,
        confirmed: undefined,
        moved: false,
        lastAnswered: entry.mid,
        onlyApplied: true,
        incs: new Set(),
      });
  }
  return touched;
}

/** Starts each work from its stored meta (`metas` in the order of `works`). */
export function loadMetas(works: readonly Work[], metas: readonly (RecordMeta | undefined)[]): void {
  works.forEach((w, i) => {
    const m = metas[i];
    if (m === undefined) return;
    const { confirmed, ...rest } = m;
    w.meta = rest;
    w.confirmed = confirmed;
  });
}

/** Makes `value` at `version` the record's confirmed state unless a newer one is known. */
export function confirm(
  w: Work,
  scope: ScopeId,
  version: number,
  value: JsonObject | null,
  mid: number,
): boolean {
  if (w.meta && version <= w.meta.version) return false;
  w.meta = {
    table: w.table,
    id: w.id,
    scope: w.meta?.scope ?? scope,
    version,
    includedMid: Math.max(mid, w.meta?.includedMid ?? 0),
  };
  w.confirmed = value;
  w.moved = true;
  return true;
}

/**
 * Collects in `rows` what settling leaves of a touched record, given its outbox entries still
 * pending: their mids or how many when every answer was `applied` (the app row stays), the
 * entries themselves otherwise (the row is rebuilt on the new confirmed value).
 */
export function rewriteSettled(
  rows: RecordRows,
  w: Work,
  remaining: readonly (OutboxEntry | number)[] | number,
): void {
  const meta = w.meta;
  const confirmed = w.confirmed;
  if (meta === undefined || confirmed === undefined) return;
  const count = typeof remaining === 'number' ? remaining : remaining.length;
  if (w.onlyApplied) {
    if (w.moved || count === 0) rows.meta(meta, confirmed, count);
    return;
  }
  // Nothing to rewrite when the server state these results carry was already confirmed (the
  // broadcast of this push's own changes usually arrives first) and every answered mutation is
  // reflected in the confirmed copy: the visible value is the same, and the meta too while
  // mutations remain pending.
  if (!w.moved && w.lastAnswered <= meta.includedMid) {
    if (count === 0) rows.meta(meta, confirmed, 0);
    return;
  }
  rows.record(meta, confirmed, remaining as OutboxEntry[]);
}

/** How many outbox entries a batch's results answered (a coalesced result answers several). */
export function answeredCount(results: readonly MutationResult[], answered: readonly Answered[]): number {
  return results.length + answered.reduce((n, a) => n + a.covered.length - 1, 0);
}

/**
 * The open conflicts of records a batch incremented, with those fields added to their counters
 * (a resolution must never overwrite a counter); only the conflicts that changed.
 */
export function withCounters(
  open: readonly ConflictEntry[],
  works: readonly { readonly table: string; readonly id: string; readonly incs: ReadonlySet<string> }[],
): ConflictEntry[] {
  const incsOf = new Map(works.map((w) => [recordKeyOf(w.table, w.id), w.incs]));
  return open.flatMap((c) => {
    const known = new Set(c.counters ?? []);
    const added = [...(incsOf.get(recordKeyOf(c.table, c.id)) ?? [])].filter((f) => !known.has(f));
    return added.length > 0 ? [{ ...c, counters: [...known, ...added].sort() }] : [];
  });
}
