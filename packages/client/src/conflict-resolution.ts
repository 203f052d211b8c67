// Settling an entry of the manual conflict inbox. A resolution writes only what the person chose,
// as a patch on the record as the server has it now (plus this device's pending changes): fields
// nobody chose, changes the server took meanwhile and counters (`inc` fields) are never written.
import type { Dexie } from 'dexie';
import {
  changedKeys,
  encodeKey,
  encodeRecord,
  isJsonObject,
  type AppObject,
  type JsonObject,
  type JsonValue,
} from '@syncline/protocol';
import { wireRecord } from './app-values.js';
import { clientError } from './errors.js';
import { appChangeSpec, resolutionChanges } from './resolution-changes.js';
import { conflictByMid, deleteConflict, synclineTableNames } from './store/client-queries.js';
import { pendingOf } from './store/record-rows.js';
import type { ConflictEntry } from './store/schema.js';
import { appKeyOf, appRowOf, type KeyPath } from './store/synced-keys.js';

/** Which side a field of a manual conflict takes: this device's change, or the server's value. */
export type FieldChoice = 'mine' | 'theirs';

/**
 * How to settle a manual conflict:
 *
 * - `'mine'`: the fields this device changed (relative to `base`) are written over the server's
 *   current value; a delete is sent when this device deleted the record, and the record is
 *   re-created from `mine` when the server deleted it.
 * - `'theirs'`: nothing is written; the server's value stands.
 * - `{ fields }`: per field (app key path, e.g. `status` or `address.city`), `'mine'` writes
 *   this device's value of it (removing it when `mine` lacks it), `'theirs'` keeps the server's.
 *   Fields not named keep the server's value.
 * - `{ value }`: the record should become `value`: the fields that differ from the current value
 *   are written; `null` deletes the record.
 *
 * Counters (`ConflictEntry.counters`) are never written: the server adds up every device's
 * increments, so their value stays the server's plus this device's pending increments.
 */
export type ConflictResolution =
  | 'mine'
  | 'theirs'
  | { readonly value: AppObject | null }
  | { readonly fields: Readonly<Record<string, FieldChoice>> };

/** What a resolution asks for, checked, in the wire encoding. */
type Plan =
  | { readonly kind: 'mine' }
  | { readonly kind: 'theirs' }
  | { readonly kind: 'fields'; readonly mine: readonly string[][]; readonly theirs: readonly string[] }
  | { readonly kind: 'value'; readonly value: JsonObject | null };

const invalid = (message: string) => clientError('invalid_argument', `resolveConflict: ${message}`);

/** Checks a resolution from the app before anything is touched. */
function planOf(resolution: ConflictResolution): Plan {
  if (resolution === 'mine' || resolution === 'theirs') return { kind: resolution };
  const r = resolution as unknown;
  if (typeof r !== 'object' || r === null)
    throw invalid("expected 'mine', 'theirs', { fields } or { value }");
  if ('fields' in r) {
    const fields = r.fields;
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
      throw invalid('fields must be an object of field → "mine" | "theirs"');
    const mine: string[][] = [];
    const theirs: string[] = [];
    for (const [field, side] of Object.entries(fields)) {
      if (side !== 'mine' && side !== 'theirs')
        throw invalid(`field "${field}" must be "mine" or "theirs", not ${JSON.stringify(side)}`);
      const segs = field.split('.');
      if (segs.some((s) => s.length === 0)) throw invalid(`"${field}" is not a field path`);
      if (side === 'mine') mine.push(segs.map(encodeKey));
      else theirs.push(segs.map(encodeKey).join('.'));
    }
    return { kind: 'fields', mine, theirs };
  }
  if ('value' in r) {
    if (r.value === null) return { kind: 'value', value: null };
    const enc = encodeRecord(r.value, 1000);
    if (!enc.ok) throw invalid(`the value cannot be synced: ${enc.message} at ${enc.path}`);
    return { kind: 'value', value: enc.value };
  }
  throw invalid("expected 'mine', 'theirs', { fields } or { value }");
}

/** The key fields of a table as wire key paths (a resolution never changes them). */
function keyFieldsOf(keyPath: KeyPath): string[] {
  const paths = typeof keyPath === 'string' ? [keyPath] : [...(keyPath ?? [])];
  return paths.map((p) => p.split('.').map(encodeKey).join('.'));
}

/** `value` restricted to what `plan` takes from `mine`, for a record the server deleted. */
function recreated(c: ConflictEntry, plan: Plan): JsonObject | null {
  switch (plan.kind) {
    case 'theirs':
      return null;
    case 'value':
      return plan.value;
    case 'mine':
      return c.mine;
    case 'fields': {
      // Nothing is left on the server: fields taken from "theirs" are absent.
      if (c.mine === null || plan.mine.length === 0) return null;
      const out: Record<string, JsonValue> = { ...c.mine };
      for (const f of plan.theirs) if (!f.includes('.')) delete out[f];
      return out;
    }
  }
}

/** Settles conflict `mid` (nothing when it is no longer in the inbox), in one transaction. */
export async function resolveConflict(
  db: Dexie,
  syncedTables: readonly string[],
  mid: number,
  resolution: ConflictResolution,
): Promise<void> {
  const plan = planOf(resolution);
  await db.transaction('rw', [...syncedTables, ...synclineTableNames], async () => {
    const c = await conflictByMid(db, mid);
    if (!c) return;
    await deleteConflict(db, mid);
    if (plan.kind === 'theirs') return;
    const table = db.table(c.table);
    const keyPath = table.schema.primKey.keyPath;
    const key = appKeyOf(c.id);
    const row: unknown = await table.get(key);
    // The record as this device shows it: the server's current value and pending changes.
    const current = row === undefined ? null : wireRecord(row);
    if (current === null) {
      const value = recreated(c, plan);
      if (value !== null) await table.put(appRowOf(keyPath, c.id, value));
      return;
    }
    const deleting = plan.kind === 'value' ? plan.value === null : plan.kind === 'mine' && c.mine === null;
    if (deleting) {
      await table.delete(key);
      return;
    }
    const pending = await pendingOf(db, c.table, c.id);
    const counters = [
      ...(c.counters ?? []),
      ...pending.flatMap((e) => (e.discarded !== true && e.mutation.op === 'inc' ? [e.mutation.field] : [])),
    ];
    const [target, paths] = targetOf(c, plan, current);
    const changes = resolutionChanges(current, target, paths, counters, keyFieldsOf(keyPath));
    if (changes.length > 0) await table.update(key, appChangeSpec(changes));
  });
}

/** The value the chosen fields should take, and which paths of it the resolution writes. */
function targetOf(
  c: ConflictEntry,
  plan: Exclude<Plan, { kind: 'theirs' }>,
  current: JsonObject,
): [JsonObject | null, string[][]] {
  switch (plan.kind) {
    case 'mine':
      // "Mine" means my changes, not my whole copy.
      return [c.mine, changedKeys(c.base, c.mine).map((k) => [k])];
    case 'fields':
      return [c.mine, plan.mine.map((p) => [...p])];
    case 'value': {
      const value = plan.value;
      const keys = isJsonObject(value) ? changedKeys(current, value) : [];
      return [value, keys.map((k) => [k])];
    }
  }
}
