import type { Dexie } from 'dexie';
import type { ScopeId } from '@syncline/protocol';
import { pendingOf, recordKeyOf, RecordRows } from './record-rows.js';
import { SYNCLINE_TABLES, type OutboxEntry, type RecordMeta } from './schema.js';

/**
 * Dropping a scope's local records (reset, a server reset of the scope, eviction), inside the
 * caller's transaction. Records with pending mutations are kept unless told otherwise: their
 * changes must still reach the server.
 */

function metasOf(db: Dexie, scope: ScopeId): Promise<RecordMeta[]> {
  return db.table<RecordMeta>(SYNCLINE_TABLES.records).where('scope').equals(scope).toArray();
}

/** `recordKeyOf` of each of `metas` that has entries in the outbox. */
async function withPending(db: Dexie, metas: readonly RecordMeta[]): Promise<Set<string>> {
  const found = new Set<string>();
  const outbox = db.table<OutboxEntry>(SYNCLINE_TABLES.outbox);
  if (metas.length === 0 || (await outbox.count()) === 0) return found;
  const keys = metas.map((m) => [m.table, m.id]);
  for (const e of await outbox.where('[table+key]').anyOf(keys).toArray())
    if (e.discarded !== true) found.add(recordKeyOf(e.table, e.key));
  return found;
}

/**
 * Removes the scope's records, but for those with pending mutations (unless `all`), which are
 * kept and replayed on "absent" until a pull brings the server's state.
 */
export async function dropScopeRecords(db: Dexie, scope: ScopeId, all = false): Promise<void> {
  const metas = await metasOf(db, scope);
  if (metas.length === 0) return;
  const pending = all ? new Set<string>() : await withPending(db, metas);
  const kept = metas.filter((m) => pending.has(recordKeyOf(m.table, m.id)));
  const lists = await Promise.all(kept.map((m) => pendingOf(db, m.table, m.id)));
  const rows = new RecordRows(db);
  kept.forEach((m, i) => {
    const bare = { table: m.table, id: m.id, scope, version: 0, includedMid: m.includedMid };
    rows.record(bare, null, lists[i]!);
  });
  for (const m of metas) if (!pending.has(recordKeyOf(m.table, m.id))) rows.drop(m.table, m.id);
  await rows.flush();
}

/**
 * Removes the scope's records without pending mutations. Returns how many stay because they have
 * some (evict again once those are answered).
 */
export async function evictScopeRecords(db: Dexie, scope: ScopeId): Promise<number> {
  const metas = await metasOf(db, scope);
  const pending = await withPending(db, metas);
  const rows = new RecordRows(db);
  let left = 0;
  for (const m of metas) {
    if (pending.has(recordKeyOf(m.table, m.id))) left++;
    else rows.drop(m.table, m.id);
  }
  await rows.flush();
  return left;
}

/** The scopes that have local records. */
export async function scopesWithRecords(db: Dexie): Promise<ScopeId[]> {
  const keys = await db.table<RecordMeta>(SYNCLINE_TABLES.records).orderBy('scope').uniqueKeys();
  return keys as ScopeId[];
}
