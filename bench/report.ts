import type { Summary } from './stats.js';

/**
 * One measured row of the suite. Every benchmark module exports
 * `run(opts: BenchOptions): Promise<BenchRow[]>`; `run.ts` prints the rows as one table, computes
 * ratios against the row named in `baseline`, and writes all rows to `bench/results/latest.json`.
 */
export interface BenchRow {
  /** `B1` … `B7`. */
  readonly bench: string;
  /** Unique within the bench, e.g. `syncline`, `floor-dexie`, `peer-yjs`, `syncline-relaxed`. */
  readonly name: string;
  /** Who this row is: the product, the physical floor, or a peer doing the same job. */
  readonly kind: 'syncline' | 'floor' | 'peer';
  /** Human description of the variant (sizes, durability, transport). */
  readonly label: string;
  /** Latency distribution in ms, when the bench measures latency. */
  readonly latencyMs?: Summary;
  /** Operations per second, when the bench measures throughput. */
  readonly perSecond?: number;
  /** Anything else worth printing (bytes on the wire, RSS per connection, time to first rows…). */
  readonly extra?: Readonly<Record<string, number | string>>;
  /** `name` of the row this one is compared with (same bench), for the ratio column. */
  readonly baseline?: string;
  /** Durability mode of the write path measured. */
  readonly durability?: string;
  /** Package versions of peers measured, e.g. `{ yjs: '13.6.33' }`. */
  readonly versions?: Readonly<Record<string, string>>;
}

export interface BenchOptions {
  /** Tiny sizes (CI): proves the code path runs, measures nothing worth reporting. */
  readonly quick: boolean;
}
