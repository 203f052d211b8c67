import type { Dexie } from 'dexie';
import type { Change, JsonObject, ScopeId } from '@syncline/protocol';
import { pendingOf, recordKeyOf, RecordRows } from './record-rows.js';
import { SYNCLINE_TABLES, type OutboxEntry, type RecordMeta } from './schema.js';

/** One server state to apply to a record: its value at `version`. */
export interface ServerState {
  readonly table: string;
  readonly id: string;
  readonly version: number;
  /** null: deleted. */
  readonly value: JsonObject | null;
  /** This client's mutations up to this mid are already reflected in `value`. */
  readonly includedMid: number;
}

/** The server states of `changes` on the synced `tables` (`includedMid`: see `ServerState`). */
export function serverStatesOf(
  tables: readonly string[],
  changes: readonly Change[],
  includedMid: (c: Change) => number,
): ServerState[] {
  return changes
    .filter((c) => tables.includes(c.collection))
    .map((c) => ({
      table: c.collection,
      id: c.id,
      version: c.version,
      value: c.value,
      includedMid: includedMid(c),
    }));
}

/**
 * Applies server states to many records at once, inside the caller's transaction: the same rules
 * as applying them one by one in order (a state not newer than the known one is skipped unless
 * `force`; the record is written by the visible-row rule of `record-rows.ts`), but with a handful
 * of bulk IndexedDB requests for the whole batch instead of several per record. This is what
 * makes a first sync of many thousand records take seconds, not minutes.
 * Returns how many states changed a record.
 */
export async function applyServerStates(
  db: Dexie,
  scope: ScopeId,
  states: readonly ServerState[],
  force: boolean,
): Promise<number> {
  if (states.length === 0) return 0;
  const records = db.table<RecordMeta, [string, string]>(SYNCLINE_TABLES.records);
  const known = new Map<string, RecordMeta | undefined>();
  const metas = await records.bulkGet(states.map((s): [string, string] => [s.table, s.id]));
  states.forEach((s, i) => {
    const k = recordKeyOf(s.table, s.id);
    if (!known.has(k)) known.set(k, metas[i]);
  });
  // Pending mutations of these records. Only a record whose meta keeps a confirmed copy can have
  // any (the outbox middleware and every write of record-rows keep that invariant), so a
  // bootstrap asks nothing; the others are asked together, one index lookup each (an `anyOf`
  // over a large outbox walks the whole index in some IndexedDB implementations).
  const withPending = [...known].filter(([, meta]) => meta?.confirmed !== undefined);
  const lists = await Promise.all(withPending.map(([, meta]) => pendingOf(db, meta!.table, meta!.id)));
  const pending = new Map<string, OutboxEntry[]>(withPending.map(([k], i) => [k, lists[i]!]));

  const rows = new RecordRows(db);
  const applied = collectServerStates(rows, scope, states, known, pending, force);
  await rows.flush();
  return applied;
}

/**
 * The record writes of applying `states` in order, collected in `rows`: `known` holds each
 * record's stored meta (and is updated as states are collected), `pending` its outbox entries
 * (none when absent). Returns how many states changed a record.
 */
export function collectServerStates(
  rows: RecordRows,
  scope: ScopeId,
  states: readonly ServerState[],
  known: Map<string, RecordMeta | undefined>,
  pending: ReadonlyMap<string, readonly OutboxEntry[]>,
  force: boolean,
): number {
  let applied = 0;
  for (const s of states) {
    const k = recordKeyOf(s.table, s.id);
    const meta = known.get(k);
    if (meta && s.version <= meta.version && !force) continue;
    const bare = {
      table: s.table,
      id: s.id,
      scope: meta?.scope ?? scope,
      version: s.version,
      includedMid: Math.max(s.includedMid, meta?.includedMid ?? 0),
    };
    known.set(k, rows.record(bare, s.value, pending.get(k) ?? []));
    applied++;
  }
  return applied;
}
