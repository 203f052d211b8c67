import { filter, firstValueFrom, type Observable } from 'rxjs';
import type { BenchRow } from './report.js';

/**
 * Two replicas A and B of one peer (or of Syncline, or of the floor) connected through that
 * peer's server: what B2 measures. Each implementation owns its server process.
 */
export interface PropagationPair {
  /** Name, kind, label, durability and versions of the row this pair produces. */
  readonly row: Pick<BenchRow, 'name' | 'kind' | 'label' | 'durability' | 'versions'>;
  /**
   * Arms B's observer for record `id` at `seq`, then writes it on A; resolves with the ms from
   * A's write call to B's observer seeing that value. Rejects if B never sees it.
   */
  propagate(id: string, seq: number): Promise<number>;
  close(): Promise<void>;
}

/** Per-seq waiters for observers that report every change (Yjs, PouchDB, the raw relay). */
export class SeqWaiters {
  readonly #waiting = new Map<number, (at: number) => void>();

  wait(seq: number): Promise<number> {
    return new Promise((resolve) => this.#waiting.set(seq, resolve));
  }

  seen(seq: unknown, at: number): void {
    if (typeof seq !== 'number') return;
    const resolve = this.#waiting.get(seq);
    this.#waiting.delete(seq);
    resolve?.(at);
  }
}

/**
 * Times one propagation observed through a live query on B: waits for the query's first
 * emission (the current value) so that the clock covers propagation only, then runs `write` on A
 * and resolves with the ms until the query shows `seq`.
 */
export async function timeUntilSeen(
  query: Observable<{ seq?: unknown } | undefined>,
  seq: number,
  write: () => Promise<unknown>,
): Promise<number> {
  let armed!: () => void;
  const isArmed = new Promise<void>((r) => (armed = r));
  const seen = firstValueFrom(
    query.pipe(
      filter((v, i) => {
        if (i === 0) armed();
        return v?.seq === seq;
      }),
    ),
  );
  await isArmed;
  const t0 = performance.now();
  await write();
  await seen;
  return performance.now() - t0;
}
