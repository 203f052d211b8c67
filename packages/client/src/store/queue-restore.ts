import { Dexie } from 'dexie';
import type { DBCoreTransaction } from 'dexie';
import type { JsonObject } from '@syncline/protocol';
import { wireRecord } from '../app-values.js';
import { allocateMids, append, readMidCounter } from './outbox.js';
import { pendingOf, RecordRows } from './record-rows.js';
import { SYNCLINE_TABLES, type OutboxEntry, type RecordMeta } from './schema.js';
import { appKeyOf } from './synced-keys.js';

/**
 * Queues a `restore` of `version` for a record, inside the caller's transaction, showing `value`
 * (that version's content, from history) until the server answers. Goes through the outbox like
 * any write; the record's first pending mutation keeps its visible value as the confirmed copy.
 */
export async function queueRestore(
  db: Dexie,
  record: { readonly table: string; readonly id: string },
  version: number,
  value: JsonObject | null,
  now: () => number,
): Promise<void> {
  const { table, id } = record;
  const meta = await db.table<RecordMeta>(SYNCLINE_TABLES.records).get([table, id]);
  if (!meta) throw new Error(`no synced record ${table}/${id}`);
  // Dexie's DBCore transaction is the IndexedDB transaction itself.
  const trans = Dexie.currentTransaction.idbtrans as unknown as DBCoreTransaction;
  const mids = allocateMids(await readMidCounter(db.core, trans), 1);
  const mid = mids.first;
  const entry: OutboxEntry = {
    mid,
    table,
    key: id,
    createdAt: now(),
    restoreValue: value,
    mutation: {
      mid,
      scope: meta.scope,
      collection: table,
      id,
      base: meta.version,
      op: 'restore',
      version,
    } as OutboxEntry['mutation'],
  };
  await append(db.core, trans, [entry], mids.next);
  const { confirmed: kept, ...bare } = meta;
  const confirmed = kept !== undefined ? kept : await visibleWire(db, table, id);
  const rows = new RecordRows(db);
  rows.record(bare, confirmed, await pendingOf(db, table, id));
  await rows.flush();
}

/** The app row of a record in the wire encoding (what confirmed copies hold), or null. */
async function visibleWire(db: Dexie, table: string, id: string): Promise<JsonObject | null> {
  const row: unknown = await db.table(table).get(appKeyOf(id));
  return row === undefined ? null : wireRecord(row, `${table}/${id}`);
}
