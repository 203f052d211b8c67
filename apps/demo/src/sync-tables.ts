// The history panel reads one record's version from Syncline's own record table (declared by
// `synclineStores`) as a plain Dexie live query: `sync.records$(table)` streams the whole table,
// more than one card needs. The name is checked here against `synclineStores`.
import { synclineStores, type RecordMeta } from '@syncline/client';
import type { Dexie } from 'dexie';

const RECORDS = '_syncline_records';

for (const name of [RECORDS]) {
  if (!(name in synclineStores)) throw new Error(`synclineStores has no table ${name}: update the demo`);
}

export function recordMeta(db: Dexie, table: string, id: string): Promise<RecordMeta | undefined> {
  return db.table<RecordMeta>(RECORDS).get([table, id]);
}
