// The reads and the few small writes the client facade and its observables make on Syncline's
// own tables, by name, so that nothing above `store/` needs to know the tables or their indexes.
import type { Dexie } from 'dexie';
import { MID_COUNTER_KEY } from './outbox.js';
import {
  INTERNAL_TABLES,
  SYNCLINE_TABLES,
  type ConflictEntry,
  type MetaRow,
  type OutboxEntry,
  type RecordMeta,
  type RejectionEntry,
  type ScopeRow,
} from './schema.js';

/** Outbox, conflict and rejection counts, and which scopes are synced, from the database. */
export interface LocalCounts {
  readonly pending: number;
  readonly oldest: number | null;
  readonly conflicts: number;
  readonly rejections: number;
  /** Each scope's stored cursor, and whether it was pulled to its head at least once. */
  readonly scopes: Readonly<Record<string, { readonly cursor: number; readonly synced: boolean }>>;
}

/** Syncline's own tables, for a transaction that must see them all (e.g. resolving a conflict). */
export const synclineTableNames: readonly string[] = INTERNAL_TABLES;

export function conflictByMid(db: Dexie, mid: number): Promise<ConflictEntry | undefined> {
  return db.table<ConflictEntry>(SYNCLINE_TABLES.conflicts).get(mid);
}

export function deleteConflict(db: Dexie, mid: number): Promise<void> {
  return db.table(SYNCLINE_TABLES.conflicts).delete(mid);
}

export function deleteRejection(db: Dexie, mid: number): Promise<void> {
  return db.table(SYNCLINE_TABLES.rejections).delete(mid);
}

/** The scope of a synced record, or undefined when the record has no server version here. */
export async function recordScope(db: Dexie, table: string, id: string): Promise<string | undefined> {
  return (await db.table<RecordMeta>(SYNCLINE_TABLES.records).get([table, id]))?.scope;
}

/** Each synced record of `table` (its meta), and how many outbox entries wait for each id. */
export async function recordsWithPending(
  db: Dexie,
  table: string,
): Promise<{ metas: RecordMeta[]; pending: ReadonlyMap<string, number> }> {
  const [metas, keys] = await Promise.all([
    db
      .table<RecordMeta>(SYNCLINE_TABLES.records)
      .where('[table+id]')
      .between([table, ''], [table, []])
      .toArray(),
    db
      .table<OutboxEntry>(SYNCLINE_TABLES.outbox)
      .where('[table+key]')
      .between([table, ''], [table, []])
      .keys(),
  ]);
  const pending = new Map<string, number>();
  for (const k of keys as unknown as [string, string][]) pending.set(k[1], (pending.get(k[1]) ?? 0) + 1);
  return { metas, pending };
}

/** Every scope row stored here, and the scopes that hold records (with or without a row). */
export async function storedScopes(db: Dexie): Promise<{ rows: ScopeRow[]; held: string[] }> {
  const rows = await db.table<ScopeRow>(SYNCLINE_TABLES.scopes).toArray();
  const held = (await db
    .table<RecordMeta>(SYNCLINE_TABLES.records)
    .orderBy('scope')
    .uniqueKeys()) as string[];
  return { rows, held };
}

/** The highest mid assigned on this device so far (any tab), 0 if none. */
export async function lastAssignedMid(db: Dexie): Promise<number> {
  const next = (await db.table<MetaRow>(SYNCLINE_TABLES.meta).get(MID_COUNTER_KEY))?.value;
  return typeof next === 'number' ? next - 1 : 0;
}

/** What a wait starts from: the last mid assigned, what of the outbox it waits for, the inbox. */
export interface WaitStart<E> {
  readonly last: number;
  readonly waiting: E;
  readonly conflicts: readonly ConflictEntry[];
}

/** In one read: the last mid assigned, the outbox entries up to it, and the conflict inbox. */
export function waitStartUpToLast(db: Dexie): Promise<WaitStart<OutboxEntry[]>> {
  return db.transaction(
    'r',
    [SYNCLINE_TABLES.meta, SYNCLINE_TABLES.outbox, SYNCLINE_TABLES.conflicts],
    async () => {
      const last = await lastAssignedMid(db);
      const waiting = await db
        .table<OutboxEntry, number>(SYNCLINE_TABLES.outbox)
        .where('mid')
        .belowOrEqual(last)
        .toArray();
      return { last, waiting, conflicts: await allConflicts(db) };
    },
  );
}

/** In one read: the last mid assigned, outbox entry `mid` if still there, and the conflict inbox. */
export function waitStartAt(db: Dexie, mid: number): Promise<WaitStart<OutboxEntry | undefined>> {
  return db.transaction(
    'r',
    [SYNCLINE_TABLES.meta, SYNCLINE_TABLES.outbox, SYNCLINE_TABLES.conflicts],
    async () => ({
      last: await lastAssignedMid(db),
      waiting: await db.table<OutboxEntry, number>(SYNCLINE_TABLES.outbox).get(mid),
      conflicts: await allConflicts(db),
    }),
  );
}

/** The conflict inbox (in mid order). */
export function allConflicts(db: Dexie): Promise<ConflictEntry[]> {
  return db.table<ConflictEntry>(SYNCLINE_TABLES.conflicts).toArray();
}

export function rejectionsByMids(
  db: Dexie,
  mids: readonly number[],
): Promise<(RejectionEntry | undefined)[]> {
  return db.table<RejectionEntry, number>(SYNCLINE_TABLES.rejections).bulkGet([...mids]);
}

export function rejectionByMid(db: Dexie, mid: number): Promise<RejectionEntry | undefined> {
  return db.table<RejectionEntry, number>(SYNCLINE_TABLES.rejections).get(mid);
}
