import type { Dexie, IndexableType } from 'dexie';
import type { JsonObject, ScopeId } from '@syncline/protocol';
import { replay } from './replay.js';
import { appKeyOf, appRowOf } from './synced-keys.js';
import { SYNCLINE_TABLES, type OutboxEntry, type RecordMeta } from './schema.js';

/** One server state to make a record's confirmed state: its value at `version`. */
export interface SettleItem {
  readonly table: string;
  readonly id: string;
  readonly version: number;
  /** null: deleted. */
  readonly value: JsonObject | null;
  /** This client's mutations up to this mid are already reflected in `value`. */
  readonly includedMid: number;
}

const keyOf = (table: string, id: string) => `${table}\u0000${id}`;

/**
 * Settles many records at once, inside the caller's transaction: the same rules as settling them
 * one by one in order (a state not newer than the known one is skipped unless `force`; the
 * visible value is the confirmed one with the record's pending mutations replayed on top), but
 * with a handful of bulk IndexedDB requests for the whole batch instead of several per record.
 * This is what makes a first sync of many thousand records take seconds, not minutes.
 * Returns how many items changed a record.
 */
export async function settleBatch(
  db: Dexie,
  scope: ScopeId,
  items: readonly SettleItem[],
  force: boolean,
): Promise<number> {
  if (items.length === 0) return 0;
  const records = db.table<RecordMeta, [string, string]>(SYNCLINE_TABLES.records);
  const outbox = db.table<OutboxEntry, number>(SYNCLINE_TABLES.outbox);
  const keys = items.map((it): [string, string] => [it.table, it.id]);

  const known = new Map<string, RecordMeta | undefined>();
  const metas = await records.bulkGet(keys);
  items.forEach((it, i) => {
    const k = keyOf(it.table, it.id);
    if (!known.has(k)) known.set(k, metas[i]);
  });
  // Pending mutations of these records, in mid order. Only a record whose meta keeps a
  // confirmed copy can have any (the outbox middleware and every settle keep that invariant),
  // so a bootstrap asks nothing; the others are asked together, one index lookup each (an
  // `anyOf` over a large outbox walks the whole index in some IndexedDB implementations).
  const pending = new Map<string, OutboxEntry[]>();
  const withPending = new Map<string, [string, string]>();
  for (const [k, meta] of known) if (meta?.confirmed !== undefined) withPending.set(k, [meta.table, meta.id]);
  const lists = await Promise.all(
    [...withPending.values()].map((key) => outbox.where('[table+key]').equals(key).toArray()),
  );
  for (const list of lists) {
    const first = list[0];
    if (first)
      pending.set(
        keyOf(first.table, first.key),
        list.sort((a, b) => a.mid - b.mid),
      );
  }

  const metaPuts = new Map<string, RecordMeta>();
  const rows = new Map<string, Map<string, JsonObject | null>>();
  let applied = 0;
  for (const it of items) {
    const k = keyOf(it.table, it.id);
    const meta = known.get(k);
    if (meta && it.version <= meta.version && !force) continue;
    const includedMid = Math.max(it.includedMid, meta?.includedMid ?? 0);
    const all = pending.get(k) ?? [];
    const base = {
      table: it.table,
      id: it.id,
      scope: meta?.scope ?? scope,
      version: it.version,
      includedMid,
    };
    // The confirmed copy is kept only while mutations are pending on top of it.
    const next: RecordMeta = all.length > 0 ? { ...base, confirmed: it.value } : base;
    known.set(k, next);
    metaPuts.set(k, next);
    const visible = replay(
      it.value,
      all.filter((e) => e.mid > includedMid),
    );
    let tableRows = rows.get(it.table);
    if (!tableRows) rows.set(it.table, (tableRows = new Map<string, JsonObject | null>()));
    tableRows.set(it.id, visible);
    applied++;
  }

  await records.bulkPut([...metaPuts.values()]);
  for (const [table, byId] of rows) {
    // Server-side writers may omit the key field; the app table needs it.
    const keyPath = db.table(table).schema.primKey.keyPath;
    const puts: Record<string, unknown>[] = [];
    const deletes: IndexableType[] = [];
    for (const [id, value] of byId) {
      if (value === null) deletes.push(appKeyOf(id));
      else puts.push(appRowOf(keyPath, id, value));
    }
    if (deletes.length > 0) await db.table(table).bulkDelete(deletes);
    if (puts.length > 0) await db.table(table).bulkPut(puts);
  }
  return applied;
}
