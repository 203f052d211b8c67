/**
 * The visible-row rule, written once, and the one place that writes synced records.
 *
 * Words used across `store/`:
 * - **queue**: a local write becomes outbox entries (`outbox-middleware.ts`, `queue-restore.ts`),
 *   numbered and added by `outbox.ts`.
 * - **apply**: write server changes (a pull page, a live message) into the local records
 *   (`apply-changes.ts`; `LocalStore.applyChanges`, `applyLive`).
 * - **settle**: store a push's answers: drop the answered outbox entries, confirm the server
 *   states they carry, keep conflicts and rejections (`settle-results.ts`;
 *   `LocalStore.settle`).
 * - **confirm**: make a server state a record's confirmed state (its meta's `version`, and the
 *   value), unless a newer one is known; applying and settling both do.
 *
 * The rule: a record's visible row (in the app's table) is its confirmed value with its pending
 * mutations (its outbox entries after `includedMid`) replayed in mid order, and no row when that
 * is null; its meta keeps the confirmed value only while mutations are pending (the outbox
 * middleware adds it with a record's first queued mutation: `queuedMeta`); a server value may
 * lack the key field, so the key path is added back. Callers collect a batch's records in a
 * `RecordRows`, then `flush` writes them with one bulk request per store and kind.
 */
import type { Dexie, IndexableType } from 'dexie';
import type { JsonObject, ScopeId } from '@syncline/protocol';
import { replay } from './replay.js';
import { appKeyOf, appRowOf } from './synced-keys.js';
import { SYNCLINE_TABLES, type OutboxEntry, type RecordMeta } from './schema.js';

/** A record's meta without its confirmed copy (which the rule adds or leaves out). */
export type BareMeta = Omit<RecordMeta, 'confirmed'>;

/** One string per record, for maps over records of several tables (ids never contain NUL). */
export const recordKeyOf = (table: string, id: string): string => `${table}\u0000${id}`;

/** The meta to store: with the confirmed copy only while `pendingCount` mutations are pending. */
export function storedMeta(meta: BareMeta, confirmed: JsonObject | null, pendingCount: number): RecordMeta {
  return pendingCount > 0 ? { ...meta, confirmed } : meta;
}

/**
 * The visible value: `confirmed` with the pending entries after `includedMid` replayed in mid
 * order (those up to it are already reflected in the confirmed value). null: no row.
 */
export function visibleValue(
  confirmed: JsonObject | null,
  pending: readonly OutboxEntry[],
  includedMid: number,
): JsonObject | null {
  const after = pending.filter((e) => e.mid > includedMid).sort((a, b) => a.mid - b.mid);
  return replay(confirmed, after);
}

/**
 * The meta to write when a mutation is queued on a record whose visible value is `current`: the
 * first pending mutation keeps the value it is replayed on as the confirmed copy. undefined: the
 * record already has pending mutations, and its meta stays as it is (no write).
 */
export function queuedMeta(
  record: { readonly table: string; readonly id: string; readonly scope: ScopeId },
  prev: RecordMeta | undefined,
  current: JsonObject | null,
): RecordMeta | undefined {
  if (prev?.confirmed !== undefined) return undefined;
  return {
    ...record,
    version: prev?.version ?? 0,
    includedMid: prev?.includedMid ?? 0,
    confirmed: current,
  };
}

/** The record's outbox entries in mid order (one index lookup). */
export async function pendingOf(db: Dexie, table: string, id: string): Promise<OutboxEntry[]> {
  const list = await db
    .table<OutboxEntry, number>(SYNCLINE_TABLES.outbox)
    .where('[table+key]')
    .equals([table, id])
    .toArray();
  return list.sort((a, b) => a.mid - b.mid);
}

/** The mids of the record's outbox entries (the same lookup, without reading the entries). */
export function pendingMidsOf(db: Dexie, table: string, id: string): Promise<number[]> {
  return db
    .table<OutboxEntry, number>(SYNCLINE_TABLES.outbox)
    .where('[table+key]')
    .equals([table, id])
    .primaryKeys();
}

/**
 * The record writes of one batch, collected and then flushed in bulk inside the caller's
 * transaction. A record collected twice keeps its last state (as writing it twice would).
 */
export class RecordRows {
  /** Per record: its `[table, id]` and the meta to put, or null to delete it. */
  readonly #metas = new Map<string, { readonly key: [string, string]; readonly meta: RecordMeta | null }>();
  /** Per app table, per record id: the visible value to put, or null to delete the row. */
  readonly #rows = new Map<string, Map<string, JsonObject | null>>();

  constructor(private readonly db: Dexie) {}

  /**
   * The record's confirmed state is `meta` with `confirmed`, and `pending` are all its outbox
   * entries: writes its meta and its visible row. Returns the meta it stores.
   */
  record(meta: BareMeta, confirmed: JsonObject | null, pending: readonly OutboxEntry[]): RecordMeta {
    const stored = this.meta(meta, confirmed, pending.length);
    this.#row(meta.table, meta.id, visibleValue(confirmed, pending, meta.includedMid));
    return stored;
  }

  /** Writes the record's meta only: its visible row is known to be unchanged. */
  meta(meta: BareMeta, confirmed: JsonObject | null, pendingCount: number): RecordMeta {
    const stored = storedMeta(meta, confirmed, pendingCount);
    this.#metas.set(recordKeyOf(meta.table, meta.id), { key: [meta.table, meta.id], meta: stored });
    return stored;
  }

  /** Removes the record: its visible row and its meta. */
  drop(table: string, id: string): void {
    this.#metas.set(recordKeyOf(table, id), { key: [table, id], meta: null });
    this.#row(table, id, null);
  }

  #row(table: string, id: string, visible: JsonObject | null): void {
    let byId = this.#rows.get(table);
    if (!byId) this.#rows.set(table, (byId = new Map<string, JsonObject | null>()));
    byId.set(id, visible);
  }

  /** Writes what was collected (one bulk request per store and kind) and forgets it. */
  async flush(): Promise<void> {
    await Promise.all(this.place());
  }

  /** How many IndexedDB requests `place` makes (one per record written or deleted, per store). */
  requests(): number {
    let n = this.metaRequests();
    for (const byId of this.#rows.values()) n += byId.size;
    return n;
  }

  /** How many IndexedDB requests `placeMetas` makes (one per record). */
  metaRequests(): number {
    return this.#metas.size;
  }

  /** The app tables `place` writes. */
  tables(): string[] {
    return [...this.#rows.keys()];
  }

  /**
   * Places the writes of what was collected (one bulk request per store and kind), synchronously,
   * forgets it, and returns their promises (see `commitAfter`).
   */
  place(): Promise<unknown>[] {
    const writes = this.placeMetas();
    for (const [table, byId] of this.#rows) {
      // Server-side writers may omit the key field; the app table needs it.
      const keyPath = this.db.table(table).schema.primKey.keyPath;
      const puts: Record<string, unknown>[] = [];
      const deletes: IndexableType[] = [];
      for (const [id, value] of byId) {
        if (value === null) deletes.push(appKeyOf(id));
        else puts.push(appRowOf(keyPath, id, value));
      }
      if (deletes.length > 0) writes.push(this.db.table(table).bulkDelete(deletes));
      if (puts.length > 0) writes.push(this.db.table(table).bulkPut(puts));
    }
    this.#rows.clear();
    return writes;
  }

  /**
   * Places the meta writes only (one bulk request per kind), synchronously, forgets them, and
   * returns their promises: for a batch whose rows were written already.
   */
  placeMetas(): Promise<unknown>[] {
    const records = this.db.table<RecordMeta, [string, string]>(SYNCLINE_TABLES.records);
    const metaPuts: RecordMeta[] = [];
    const metaDeletes: [string, string][] = [];
    for (const { key, meta } of this.#metas.values()) {
      if (meta !== null) metaPuts.push(meta);
      else metaDeletes.push(key);
    }
    this.#metas.clear();
    const writes: Promise<unknown>[] = [];
    if (metaPuts.length > 0) writes.push(records.bulkPut(metaPuts));
    if (metaDeletes.length > 0) writes.push(records.bulkDelete(metaDeletes));
    return writes;
  }
}
