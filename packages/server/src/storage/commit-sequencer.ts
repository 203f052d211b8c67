/**
 * Orders commit notifications of a backend that runs transactions concurrently on several
 * connections. Two transactions of one scope are serialized by the database (the scope lock), but
 * their COMMIT replies arrive on different connections, and nothing orders those. This holds a
 * notification back while another in-flight transaction of this process still owns a lower
 * version of a scope it touched: that transaction has necessarily committed in the database
 * already (the lower version's lock was released before the higher one could be allocated), so
 * the wait is one reply's latency at most — or ends when that transaction fails.
 */
export class CommitSequencer {
  readonly #inflight = new Set<Slot>();

  /** Registers a transaction that is about to start. */
  open(): Slot {
    const slot = new Slot(() => this.#flush());
    this.#inflight.add(slot);
    return slot;
  }

  #flush(): void {
    for (;;) {
      const ready = [...this.#inflight].find((s) => s.state !== 'running' && !this.#blocked(s));
      if (!ready) return;
      this.#inflight.delete(ready);
      if (ready.state === 'committed') ready.publish();
    }
  }

  /** True while another in-flight slot holds a lower version of a scope `slot` wrote. */
  #blocked(slot: Slot): boolean {
    if (slot.state !== 'committed') return false;
    for (const other of this.#inflight) {
      if (other === slot || other.state === 'failed') continue;
      for (const [scope, version] of slot.firsts()) {
        const theirs = other.firstOf(scope);
        if (theirs !== undefined && theirs < version) return true;
      }
    }
    return false;
  }
}

/** One transaction's place in the sequence: the first version it allocated per scope. */
export class Slot {
  state: 'running' | 'committed' | 'failed' = 'running';
  /** Allocations per savepoint level; level 0 is the transaction itself. */
  readonly #levels: Map<string, number>[] = [new Map<string, number>()];
  #publish: () => void = () => undefined;

  constructor(private readonly flush: () => void) {}

  /** Records a version allocated in `scope` at the current savepoint level. */
  allocated(scope: string, version: number): void {
    if (this.firstOf(scope) !== undefined) return;
    this.#levels[this.#levels.length - 1]!.set(scope, version);
  }

  enterSavepoint(): void {
    this.#levels.push(new Map<string, number>());
  }

  /** Leaves a savepoint: its allocations are kept on release, forgotten on rollback. */
  leaveSavepoint(kept: boolean): void {
    const level = this.#levels.pop();
    if (kept && level) for (const [scope, v] of level) this.#levels[this.#levels.length - 1]!.set(scope, v);
  }

  firstOf(scope: string): number | undefined {
    for (const level of this.#levels) {
      const v = level.get(scope);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  *firsts(): Iterable<[string, number]> {
    for (const level of this.#levels) yield* level;
  }

  /** The transaction committed: `publish` runs as soon as every earlier commit has published. */
  committed(publish: () => void): void {
    this.state = 'committed';
    this.#publish = publish;
    this.flush();
  }

  /** The transaction rolled back (or its outcome is unknown): it publishes nothing. */
  failed(): void {
    this.state = 'failed';
    this.flush();
  }

  publish(): void {
    this.#publish();
  }
}
