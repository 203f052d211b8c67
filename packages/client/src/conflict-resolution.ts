// Settling an entry of the manual conflict inbox: the app picks the server's version, its own
// changes, or a value of its own; the latter two sync as new changes on the server's version.
import type { Dexie } from 'dexie';
import { changedKeys, type AppObject, type JsonObject } from '@syncline/protocol';
import { wireRecord } from './app-values.js';
import { conflictByMid, deleteConflict, synclineTableNames } from './store/client-queries.js';
import { appKeyOf, appRowOf } from './store/synced-keys.js';

/** How to settle a manual conflict. */
export type ConflictResolution = 'mine' | 'theirs' | { readonly value: AppObject | null };

/** Settles conflict `mid` (nothing when it is no longer in the inbox), in one transaction. */
export async function resolveConflict(
  db: Dexie,
  syncedTables: readonly string[],
  mid: number,
  resolution: ConflictResolution,
): Promise<void> {
  await db.transaction('rw', [...syncedTables, ...synclineTableNames], async () => {
    const c = await conflictByMid(db, mid);
    if (!c) return;
    await deleteConflict(db, mid);
    if (resolution === 'theirs') return;
    const table = db.table(c.table);
    const key = appKeyOf(c.id);
    const row: unknown = await table.get(key);
    const current = row === undefined ? null : wireRecord(row);
    // "Mine" means my changes, not my whole copy: apply the fields I changed since the base
    // onto the current record, so other fields changed meanwhile are kept.
    if (resolution !== 'mine') {
      if (resolution.value === null) await table.delete(key);
      else await table.put(resolution.value);
      return;
    }
    const value = applyMyChanges(current, c.base, c.mine);
    if (value === null) await table.delete(key);
    else await table.put(appRowOf(table.schema.primKey.keyPath, c.id, value));
  });
}

/** `current` with every top-level field that `mine` changed relative to `base` taken from `mine`. */
export function applyMyChanges(
  current: JsonObject | null,
  base: JsonObject | null,
  mine: JsonObject | null,
): JsonObject | null {
  if (mine === null || current === null) return mine;
  const out: JsonObject = { ...current };
  for (const k of changedKeys(base, mine)) {
    if (mine[k] === undefined) delete out[k];
    else out[k] = mine[k];
  }
  return out;
}
