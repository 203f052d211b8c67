/**
 * What each benchmark page exposes to its Node driver (`callPage`). DOM-free on purpose: the
 * Node side imports these types, and it is type-checked without DOM types.
 */

/** B1 variants, each a write path with a live observer of the written record. */
export const B1_VARIANTS = [
  'syncline',
  'syncline-react',
  'syncline-relaxed',
  'floor-dexie',
  'floor-dexie-relaxed',
  'peer-rxdb',
  'peer-rxdb-strict',
] as const;
export type B1Variant = (typeof B1_VARIANTS)[number];

export interface B1PageApi {
  /**
   * `count` sequential writes of the variant's record, each timed from the write call to the
   * observer seeing the new revision (ms). Throws if the observer sees a wrong value.
   */
  measure(variant: B1Variant, count: number): Promise<number[]>;
  /** Library versions in the page bundle. */
  versions(): Record<string, string>;
}

export const B6_VARIANTS = [
  'syncline',
  'floor-durable',
  'floor-dexie',
  'floor-dexie-relaxed',
  'peer-rxdb',
] as const;
export type B6Variant = (typeof B6_VARIANTS)[number];

export interface B6Run {
  readonly variant: B6Variant;
  readonly count: number;
  /** Syncline: the scope to join. */
  readonly scope: string;
  /** Floors and peer: where the page fetches the same rows from (the durable floor: its `/pull`). */
  readonly dataUrl: string;
}

export interface B6Result {
  /** From the start until at least 500 rows are queryable (a live query sees them). */
  readonly firstMs: number;
  /** From the start until every row is stored (Syncline: initial sync done). */
  readonly doneMs: number;
  /** Rows in the table at the end, counted after completion. */
  readonly rows: number;
  /** Floor and peer: time to fetch and parse the rows before the timed writes. */
  readonly fetchMs?: number;
}

export interface B6PageApi {
  bootstrap(run: B6Run): Promise<B6Result>;
}

export interface B2PageApi {
  /** Puts revision `rev` of the shared record; returns the shared-clock time just before the put. */
  write(rev: number): Promise<number>;
  /** Resolves with the shared-clock time at which this page's live query emitted `rev`. */
  seen(rev: number, timeoutMs: number): Promise<number>;
  /** Resolves once this page's outbox is empty. */
  drained(timeoutMs: number): Promise<void>;
}
