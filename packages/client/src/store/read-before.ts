import { Dexie } from 'dexie';
import type { DBCore, DBCoreMutateRequest, DBCoreTable, DBCoreTransaction } from 'dexie';
import type { JsonObject } from '@syncline/protocol';
import { readMidCounter } from './outbox.js';
import { SYNCLINE_TABLES, type MetaRow, type RecordMeta } from './schema.js';
import type { KeyPath } from './synced-keys.js';
import { idsOf } from './write-checks.js';

/**
 * The reads the outbox middleware places for a write: what the write needs from before it (the
 * app's old values, placed in the tick the app issued the write, right before it) and Syncline's
 * state for it (record metas and the mid counter). DBCore promises, chained with `.then` (see
 * `outbox-middleware.ts`).
 */

/** What a write needs from before it: the keys it touches, their record ids and values then. */
export interface Before {
  readonly keys: readonly unknown[];
  readonly ids: readonly string[];
  readonly olds: readonly (JsonObject | undefined)[];
}

/** Syncline's state for a write: the metas of its records (in `ids` order) and the mid counter. */
export interface QueueState {
  readonly metas: readonly (RecordMeta | undefined)[];
  readonly counter: MetaRow | undefined;
}

/**
 * Places the reads of what a write needs from before it (call right before placing the write).
 * `keys`/`ids` are those of an add, put or delete; a range delete reads its own.
 */
export function readBefore(
  table: DBCoreTable,
  req: DBCoreMutateRequest,
  keyPath: KeyPath,
  keys: readonly unknown[],
  ids: readonly string[],
): Promise<Before> {
  const trans = req.trans;
  switch (req.type) {
    case 'add':
      // An add that succeeds had nothing there: no read needed.
      return Dexie.Promise.resolve({ keys, ids, olds: keys.map(() => undefined) });
    case 'put':
    case 'delete':
      return table
        .getMany({ trans, keys: [...keys] })
        .then((olds) => ({ keys, ids, olds: olds as (JsonObject | undefined)[] }));
    case 'deleteRange':
      return table
        .query({ trans, values: true, query: { index: table.schema.primaryKey, range: req.range } })
        .then(({ result }) => {
          const rangeKeys = (result as object[]).map((v): unknown =>
            Dexie.getByKeyPath(v, keyPath as string | string[]),
          );
          return { keys: rangeKeys, ids: idsOf(table.name, rangeKeys), olds: result as JsonObject[] };
        });
  }
}

/** Places the reads of Syncline's state for a write on `table`'s records `ids`. */
export function readState(
  core: DBCore,
  table: DBCoreTable,
  trans: DBCoreTransaction,
  ids: readonly string[],
): Promise<QueueState> {
  return Dexie.Promise.all([
    core.table(SYNCLINE_TABLES.records).getMany({ trans, keys: ids.map((id) => [table.name, id]) }),
    readMidCounter(core, trans),
  ]).then(([metas, counter]) => ({ metas: metas as (RecordMeta | undefined)[], counter }));
}
