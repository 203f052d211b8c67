import { Dexie } from 'dexie';
import type { DBCore, DBCoreMutateResponse, DBCoreTransaction } from 'dexie';
import { SYNCLINE_TABLES, type MetaRow, type OutboxEntry } from './schema.js';

/**
 * The outbox: queued mutations keyed by mid, and the mid counter (a row of `_syncline_meta`).
 * The counter is read and moved in the same transaction as the entries it numbers, so mids stay
 * dense and ordered across tabs. Written against DBCore with Dexie promises, so the outbox
 * middleware can use it in its `.then` chains (see there) and `LocalStore` inside its async
 * Dexie transactions.
 */

/** The counter row's key: its value is the next mid to allocate. */
export const MID_COUNTER_KEY: MetaRow['key'] = 'nextMid';

/** `count` consecutive mids: `first … next - 1`; `next` is what the counter moves to. */
export interface MidRange {
  readonly first: number;
  readonly next: number;
}

/** Places the read of the mid counter on `trans`. */
export function readMidCounter(core: DBCore, trans: DBCoreTransaction): Promise<MetaRow | undefined> {
  return Dexie.Promise.resolve(
    core.table(SYNCLINE_TABLES.meta).get({ trans, key: MID_COUNTER_KEY }) as Promise<MetaRow | undefined>,
  );
}

/** The next `count` mids after the counter row as read (absent: mids start at 1). */
export function allocateMids(counter: MetaRow | undefined, count: number): MidRange {
  const first = typeof counter?.value === 'number' ? counter.value : 1;
  return { first, next: first + count };
}

/**
 * Adds `entries` to the outbox and moves the counter to `next`, on `trans`. Rejects when a
 * request failed (DBCore reports failures as data; Syncline's own writes must not fail quietly).
 */
export function append(
  core: DBCore,
  trans: DBCoreTransaction,
  entries: readonly OutboxEntry[],
  next: number,
): Promise<void> {
  const counter: MetaRow = { key: MID_COUNTER_KEY, value: next };
  return Dexie.Promise.all([
    core.table(SYNCLINE_TABLES.outbox).mutate({ type: 'add', trans, values: entries }),
    core.table(SYNCLINE_TABLES.meta).mutate({ type: 'put', trans, values: [counter] }),
  ]).then(throwFailures);
}

/** Throws the first failure of DBCore write responses (undefined: a write not placed). */
export function throwFailures(responses: readonly (DBCoreMutateResponse | undefined)[]): void {
  for (const r of responses) {
    if (r === undefined || r.numFailures === 0) continue;
    const first: unknown = Object.values(r.failures)[0];
    throw first instanceof Error ? first : new Error('Syncline could not queue the write');
  }
}
