/**
 * Version allocation of one SQL transaction, done in memory after the first one per scope.
 *
 * The first `nextVersion` of a scope in a transaction goes to the database (an upsert that
 * creates the scope or bumps its head, under the transaction's write lock on that scope); the
 * following ones only count up here. `dirty()` names the scopes whose head in the database is
 * behind what was allocated, and the transaction writes those heads once before it commits. So a
 * push of n mutations to a scope costs one or two statements on the scope row instead of n.
 *
 * Savepoints: `enter()` snapshots the heads and `leave(false)` restores the snapshot, so
 * versions allocated inside a rolled-back savepoint are handed out again (gapless). This only
 * holds if the database is rolled back to the same point, which the caller does.
 */
export class ScopeHeads {
  /** Per scope: the head the database holds in this transaction, and the last version allocated. */
  #heads = new Map<string, Head>();
  readonly #saved: Map<string, Head>[] = [];

  /** The next version of `scope` if its head is known here, else undefined: ask the database. */
  bump(scope: string): number | undefined {
    const head = this.#heads.get(scope);
    if (head === undefined) return undefined;
    head.allocated++;
    return head.allocated;
  }

  /** The database allocated `version` itself: it now holds it as the scope's head. */
  stored(scope: string, version: number): void {
    this.#heads.set(scope, { stored: version, allocated: version });
  }

  /** Scopes whose allocations the database does not hold yet, with the head to write. */
  dirty(): { scope: string; head: number }[] {
    const out: { scope: string; head: number }[] = [];
    for (const [scope, h] of this.#heads)
      if (h.allocated !== h.stored) out.push({ scope, head: h.allocated });
    return out;
  }

  /** The heads `dirty()` listed were written. */
  written(): void {
    for (const h of this.#heads.values()) h.stored = h.allocated;
  }

  enter(): void {
    this.#saved.push(copy(this.#heads));
  }

  /** Leaves a savepoint: kept, its allocations stand; rolled back, the heads from its start return. */
  leave(kept: boolean): void {
    const saved = this.#saved.pop();
    if (!kept && saved) this.#heads = saved;
  }
}

interface Head {
  stored: number;
  allocated: number;
}

function copy(heads: ReadonlyMap<string, Head>): Map<string, Head> {
  const out = new Map<string, Head>();
  for (const [scope, h] of heads) out.set(scope, { ...h });
  return out;
}
