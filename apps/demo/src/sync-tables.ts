// The inspector reads two of Syncline's own tables (declared by `synclineStores`) through plain
// Dexie queries: the per-record versions and the per-scope cursors. The client has no
// observable for them yet, so the names are checked here against `synclineStores`.
import { synclineStores, type RecordMeta, type ScopeRow } from '@syncline/client';
import type { Dexie } from 'dexie';

const RECORDS = '_syncline_records';
const SCOPES = '_syncline_scopes';

for (const name of [RECORDS, SCOPES]) {
  if (!(name in synclineStores)) throw new Error(`synclineStores has no table ${name}: update the demo`);
}

export function recordMetas(db: Dexie): Promise<RecordMeta[]> {
  return db.table<RecordMeta>(RECORDS).toArray();
}

export function recordMeta(db: Dexie, table: string, id: string): Promise<RecordMeta | undefined> {
  return db.table<RecordMeta>(RECORDS).get([table, id]);
}

export function scopeRows(db: Dexie): Promise<ScopeRow[]> {
  return db.table<ScopeRow>(SCOPES).toArray();
}
