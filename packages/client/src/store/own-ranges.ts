import type { CommittedRange, ScopeId } from '@syncline/protocol';
import type { ScopeRow } from './schema.js';

/** A version range `from … to` of this client's own commits in one scope. */
export interface Range {
  readonly from: number;
  readonly to: number;
}

/**
 * `cursor` moved over the ranges that continue it; the ranges it passed are removed from
 * `ranges` (sorted in place), the rest stay for later.
 */
export function fold(cursor: number, ranges: Range[]): number {
  ranges.sort((a, b) => a.from - b.from);
  let at = cursor;
  while (ranges.length > 0 && ranges[0]!.from <= at + 1) at = Math.max(at, ranges.shift()!.to);
  return at;
}

/**
 * The scope rows whose cursor `next` (from `OwnRanges.with`) moves, given the stored rows of its
 * scopes in the order of `next`'s keys; `cursors` gets each moved cursor (cleared first).
 */
export function movedRows(
  next: ReadonlyMap<ScopeId, Range[]>,
  rows: readonly (ScopeRow | undefined)[],
  cursors: Map<ScopeId, number>,
): ScopeRow[] {
  cursors.clear();
  return [...next].flatMap(([scope, list], i) => {
    const row = rows[i] ?? { scope, cursor: 0, horizon: 0 };
    const cursor = fold(row.cursor, list);
    if (cursor === row.cursor) return [];
    cursors.set(scope, cursor);
    return [{ ...row, cursor }];
  });
}

/**
 * Version ranges of this client's own commits per scope, whose results are settled (stored) but
 * which the cursor has not reached yet: the server does not broadcast them back, so the cursor
 * moves over them once it reaches their start (`fold`). In memory only: after a restart a range
 * not yet folded shows as a gap, and the pull that follows covers it.
 */
export class OwnRanges {
  readonly #own = new Map<ScopeId, Range[]>();

  /**
   * The ranges per scope once `committed` is added: kept aside (see `set`) until the
   * transaction that stores the push's results commits, since the cursor must never move over
   * versions whose results were not stored.
   */
  with(committed: readonly CommittedRange[]): Map<ScopeId, Range[]> {
    const next = new Map<ScopeId, Range[]>();
    for (const c of committed) {
      const list = next.get(c.scope) ?? [...(this.#own.get(c.scope) ?? [])];
      next.set(c.scope, [...list, { from: c.after + 1, to: c.after + c.count }]);
    }
    return next;
  }

  /** The cursor moved over the scope's own committed ranges that continue it (see `fold`). */
  fold(scope: ScopeId, cursor: number): number {
    const list = [...(this.#own.get(scope) ?? [])];
    const at = fold(cursor, list);
    this.set(scope, list);
    return at;
  }

  /** A copy of the scope's ranges. */
  get(scope: ScopeId): Range[] {
    return [...(this.#own.get(scope) ?? [])];
  }

  set(scope: ScopeId, list: Range[]): void {
    if (list.length > 0) this.#own.set(scope, list);
    else this.#own.delete(scope);
  }

  /** Forgets a scope's ranges (versions of a history the server no longer has, or evicted). */
  delete(scope: ScopeId): void {
    this.#own.delete(scope);
  }

  clear(): void {
    this.#own.clear();
  }
}
