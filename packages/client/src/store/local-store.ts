import type { Dexie, Table } from 'dexie';
import {
  type Change,
  type CommittedRange,
  type JsonObject,
  type MutationResult,
  type ScopeId,
} from '@syncline/protocol';
import { withSynclineDurability } from './durability.js';
import type { TxMarkers } from './outbox-middleware.js';
import { discardOutbox } from './discard.js';
import { replay } from './replay.js';
import { settleBatch } from './settle-batch.js';
import { settleResults, type ApplyReport } from './settle-results.js';
import { appKeyOf, appRowOf } from './synced-keys.js';
import { wireRecord } from '../app-values.js';
import {
  INTERNAL_TABLES,
  SYNCLINE_TABLES,
  type MetaRow,
  type OutboxEntry,
  type RecordMeta,
  type ScopeRow,
} from './schema.js';

/** A version range `from … to` of this client's own commits in one scope. */
interface Range {
  readonly from: number;
  readonly to: number;
}

/**
 * `cursor` moved over the ranges that continue it; the ranges it passed are removed from
 * `ranges` (sorted in place), the rest stay for later.
 */
function fold(cursor: number, ranges: Range[]): number {
  ranges.sort((a, b) => a.from - b.from);
  let at = cursor;
  while (ranges.length > 0 && ranges[0]!.from <= at + 1) at = Math.max(at, ranges.shift()!.to);
  return at;
}

/**
 * The client's local state machine for records: applies server state (pull pages, live
 * changes, push results) to the app's tables, keeping confirmed copies and rebasing pending
 * mutations on top. Every method runs in one IndexedDB transaction marked as remote, so its
 * writes are not queued again, and the scope cursor moves in the same transaction as the data
 * it covers.
 */
export class LocalStore {
  readonly #tables: string[];
  /**
   * Version ranges of this client's own commits per scope, whose results are settled (stored)
   * but which the cursor has not reached yet: the server does not broadcast them back, so the
   * cursor moves over them once it reaches their start (`#fold`). In memory only: after a
   * restart a range not yet folded shows as a gap, and the pull that follows covers it.
   */
  readonly #own = new Map<ScopeId, Range[]>();

  constructor(
    readonly db: Dexie,
    syncedTables: readonly string[],
    private readonly markers: TxMarkers,
    private readonly now: () => number,
  ) {
    this.#tables = [...syncedTables];
  }

  #t<Row>(name: string): Table<Row, unknown> {
    return this.db.table(name);
  }

  /**
   * Runs `fn` in a read-write transaction over every synced and internal table, marked remote.
   * `relaxed` for transactions that store only server state and its cursor (see
   * `withSynclineDurability`); the default is strict durability, whatever the app chose for its
   * own transactions.
   */
  remote<R>(fn: () => Promise<R>, durability: 'strict' | 'relaxed' = 'strict'): Promise<R> {
    return withSynclineDurability(durability, () =>
      this.db.transaction('rw', [...this.#tables, ...INTERNAL_TABLES], async (tx) => {
        this.markers.remote.add(tx.idbtrans);
        return fn();
      }),
    );
  }

  async scopeRow(scope: ScopeId): Promise<ScopeRow> {
    return (await this.#t<ScopeRow>(SYNCLINE_TABLES.scopes).get(scope)) ?? { scope, cursor: 0, horizon: 0 };
  }

  /** Up to `limit` outbox entries in mid order, those with a mid above `after` only. */
  async pendingEntries(limit: number, after = 0): Promise<OutboxEntry[]> {
    return this.#t<OutboxEntry>(SYNCLINE_TABLES.outbox).where('mid').above(after).limit(limit).toArray();
  }

  /**
   * Applies server state for one scope and moves its cursor, atomically. `includedMid(change)`
   * tells up to which of this client's mids the change already reflects. On `reset`, records of
   * the scope without pending mutations are dropped first.
   */
  async applyChanges(
    scope: ScopeId,
    changes: readonly Change[],
    includedMid: (c: Change) => number,
    cursor: {
      readonly to: number;
      readonly horizon?: number;
      readonly reset?: boolean;
      /** The pull reached the head: the scope's initial sync is done. */
      readonly complete?: boolean;
    },
  ): Promise<number> {
    return this.remote(async () => {
      const prev = await this.scopeRow(scope);
      if (cursor.reset) {
        this.#own.delete(scope); // versions of the history the server no longer has
        await this.#dropScope(scope);
      }
      return this.#settleAndMove(prev, changes, includedMid, cursor);
    }, 'relaxed');
  }

  /**
   * Applies a live message whose changes follow version `after`, checked against the cursor in
   * the same transaction: `stale` if the cursor already covers them all, `gap` (nothing
   * applied) if versions between the cursor and `after` are missing, else the changes that
   * were new.
   */
  async applyLive(
    scope: ScopeId,
    after: number,
    changes: readonly Change[],
    includedMid: (c: Change) => number,
  ): Promise<'stale' | 'gap' | { readonly fresh: readonly Change[] }> {
    return this.remote(async () => {
      const stored = await this.scopeRow(scope);
      const prev = { ...stored, cursor: this.#fold(scope, stored.cursor) };
      const end = after + changes.length;
      if (end <= prev.cursor || after > prev.cursor) {
        if (prev.cursor !== stored.cursor) await this.#t<ScopeRow>(SYNCLINE_TABLES.scopes).put(prev);
        return end <= prev.cursor ? 'stale' : 'gap';
      }
      const fresh = changes.slice(prev.cursor - after);
      await this.#settleAndMove(prev, fresh, includedMid, { to: end });
      return { fresh };
    }, 'relaxed');
  }

  async #settleAndMove(
    prev: ScopeRow,
    changes: readonly Change[],
    includedMid: (c: Change) => number,
    cursor: {
      readonly to: number;
      readonly horizon?: number;
      readonly reset?: boolean;
      /** The pull reached the head: the scope's initial sync is done. */
      readonly complete?: boolean;
    },
  ): Promise<number> {
    const items = changes
      .filter((c) => this.#tables.includes(c.collection))
      .map((c) => ({
        table: c.collection,
        id: c.id,
        version: c.version,
        value: c.value,
        includedMid: includedMid(c),
      }));
    const applied = await settleBatch(this.db, prev.scope, items, cursor.reset === true);
    const synced = cursor.complete === true || (cursor.reset !== true && prev.synced === true);
    await this.#t<ScopeRow>(SYNCLINE_TABLES.scopes).put({
      scope: prev.scope,
      cursor: this.#fold(prev.scope, Math.max(cursor.reset ? 0 : prev.cursor, cursor.to)),
      horizon: cursor.horizon ?? prev.horizon,
      ...(synced ? { synced } : {}),
    });
    return applied;
  }

  /**
   * Applies a push's results (settles each mutation, stores conflicts and rejections, rebases)
   * and, in the same transaction, moves each scope's cursor over the versions the push
   * committed once it reaches them. Returns the report and the cursors moved.
   */
  async applyResults(
    entries: readonly OutboxEntry[],
    results: readonly MutationResult[],
    committed: readonly CommittedRange[] = [],
  ): Promise<ApplyReport & { readonly cursors: ReadonlyMap<ScopeId, number> }> {
    // Kept aside until the transaction commits: the cursor must never move over versions
    // whose results were not stored.
    const next = new Map<ScopeId, Range[]>();
    for (const c of committed) {
      const list = next.get(c.scope) ?? [...(this.#own.get(c.scope) ?? [])];
      next.set(c.scope, [...list, { from: c.after + 1, to: c.after + c.count }]);
    }
    const out = await this.remote(async () => {
      const report = await settleResults(this.db, entries, results, this.now);
      const cursors = new Map<ScopeId, number>();
      for (const [scope, list] of next) {
        const row = await this.scopeRow(scope);
        const cursor = fold(row.cursor, list);
        if (cursor !== row.cursor) {
          await this.#t<ScopeRow>(SYNCLINE_TABLES.scopes).put({ ...row, cursor });
          cursors.set(scope, cursor);
        }
      }
      return { ...report, cursors };
    });
    for (const [scope, list] of next) this.#setOwn(scope, list);
    return out;
  }

  /** The cursor moved over the scope's own committed ranges that continue it (see `fold`). */
  #fold(scope: ScopeId, cursor: number): number {
    const list = [...(this.#own.get(scope) ?? [])];
    const at = fold(cursor, list);
    this.#setOwn(scope, list);
    return at;
  }

  #setOwn(scope: ScopeId, list: Range[]): void {
    if (list.length > 0) this.#own.set(scope, list);
    else this.#own.delete(scope);
  }

  /**
   * Queues a `restore` of `version` for a record, showing `value` (that version's content, from
   * history) until the server answers. Goes through the outbox like any write.
   */
  async queueRestore(table: string, id: string, version: number, value: JsonObject | null): Promise<void> {
    await this.remote(async () => {
      const meta = await this.#meta(table, id);
      if (!meta) throw new Error(`no synced record ${table}/${id}`);
      const counter = (await this.#t<MetaRow>(SYNCLINE_TABLES.meta).get('nextMid'))?.value;
      const mid = typeof counter === 'number' ? counter : 1;
      const entry: OutboxEntry = {
        mid,
        table,
        key: id,
        createdAt: this.now(),
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
      await this.#t<OutboxEntry>(SYNCLINE_TABLES.outbox).add(entry);
      await this.#t<MetaRow>(SYNCLINE_TABLES.meta).put({ key: 'nextMid', value: mid + 1 });
      const confirmed = meta.confirmed !== undefined ? meta.confirmed : await this.#wireValue(table, id);
      const { confirmed: _c, ...rest } = meta;
      await this.#write(table, id, rest, confirmed);
    });
  }

  /** The app row of a record in the wire encoding (what confirmed copies hold), or null. */
  async #wireValue(table: string, id: string): Promise<JsonObject | null> {
    const row: unknown = await this.#t(table).get(appKeyOf(id));
    return row === undefined ? null : wireRecord(row, `${table}/${id}`);
  }

  async #meta(table: string, id: string): Promise<RecordMeta | undefined> {
    return this.#t<RecordMeta>(SYNCLINE_TABLES.records).get([table, id]);
  }

  async #pending(table: string, id: string): Promise<OutboxEntry[]> {
    const list = await this.#t<OutboxEntry>(SYNCLINE_TABLES.outbox)
      .where('[table+key]')
      .equals([table, id])
      .toArray();
    return list.sort((a, b) => a.mid - b.mid);
  }

  async #write(
    table: string,
    id: string,
    meta: Omit<RecordMeta, 'confirmed'>,
    confirmed: JsonObject | null,
  ): Promise<void> {
    const pending = (await this.#pending(table, id)).filter((e) => e.mid > meta.includedMid);
    const all = await this.#t<OutboxEntry>(SYNCLINE_TABLES.outbox)
      .where('[table+key]')
      .equals([table, id])
      .count();
    const visible = replay(confirmed, pending);
    await this.#t<RecordMeta>(SYNCLINE_TABLES.records).put(all > 0 ? { ...meta, confirmed } : meta);
    if (visible === null) {
      await this.#t(table).delete(appKeyOf(id));
      return;
    }
    // Server-side writers may omit the key field; the app table needs it.
    await this.#t(table).put(appRowOf(this.db.table(table).schema.primKey.keyPath, id, visible));
  }

  /**
   * Drops every synced copy and cursor, so the next connection pulls every scope from the
   * start. Records with pending mutations keep them, replayed on "absent" until the pull brings
   * the server's state. With `discardPending`, the outbox's entries become placeholders the
   * server refuses (their mids must still be consumed, in order) whose answers are ignored, and
   * conflicts and rejections are cleared too. Run only while no engine writes (it is stopped).
   */
  async reset(discardPending: boolean): Promise<void> {
    this.#own.clear();
    await this.remote(async () => {
      if (discardPending) {
        await discardOutbox(this.db);
        await Promise.all([
          this.#t(SYNCLINE_TABLES.conflicts).clear(),
          this.#t(SYNCLINE_TABLES.rejections).clear(),
        ]);
      }
      const scopes = new Set(
        (await this.#t<RecordMeta>(SYNCLINE_TABLES.records).orderBy('scope').uniqueKeys()) as ScopeId[],
      );
      for (const s of scopes) await this.#dropScope(s, discardPending);
      await this.#t(SYNCLINE_TABLES.scopes).clear();
    });
  }

  /**
   * Removes a scope that is no longer subscribed: its records without pending mutations and its
   * cursor. Returns how many records stay because they have pending mutations (evict again once
   * those are answered).
   */
  async evictScope(scope: ScopeId, still: () => boolean = () => true): Promise<number> {
    return this.remote(async () => {
      if (!still()) return 0;
      this.#own.delete(scope);
      await this.#t(SYNCLINE_TABLES.scopes).delete(scope);
      const metas = await this.#t<RecordMeta>(SYNCLINE_TABLES.records).where('scope').equals(scope).toArray();
      const pending = await this.#withPending(metas);
      const drop = metas.filter((m) => !pending.has(`${m.table}\u0000${m.id}`));
      await this.#deleteRecords(drop);
      return metas.length - drop.length;
    });
  }

  /** `table\0id` of each of `metas` that has entries in the outbox. */
  async #withPending(metas: readonly RecordMeta[]): Promise<Set<string>> {
    const withPending = new Set<string>();
    const outbox = this.#t<OutboxEntry>(SYNCLINE_TABLES.outbox);
    if (metas.length === 0 || (await outbox.count()) === 0) return withPending;
    const keys = metas.map((m) => [m.table, m.id]);
    for (const e of await outbox.where('[table+key]').anyOf(keys).toArray())
      if (e.discarded !== true) withPending.add(`${e.table}\u0000${e.key}`);
    return withPending;
  }

  async #deleteRecords(metas: readonly RecordMeta[]): Promise<void> {
    const drop = new Map<string, string[]>();
    for (const m of metas) drop.set(m.table, [...(drop.get(m.table) ?? []), m.id]);
    for (const [table, ids] of drop) {
      await this.#t(table).bulkDelete(ids.map(appKeyOf));
      await this.#t<RecordMeta>(SYNCLINE_TABLES.records).bulkDelete(ids.map((id) => [table, id]));
    }
  }

  async #dropScope(scope: ScopeId, all = false): Promise<void> {
    const metas = await this.#t<RecordMeta>(SYNCLINE_TABLES.records).where('scope').equals(scope).toArray();
    if (metas.length === 0) return;
    const withPending = all ? new Set<string>() : await this.#withPending(metas);
    const drop: RecordMeta[] = [];
    for (const m of metas) {
      if (withPending.has(`${m.table}\u0000${m.id}`)) {
        // Pending mutations survive the reset, replayed on "absent" until the pull brings the record.
        await this.#write(
          m.table,
          m.id,
          { table: m.table, id: m.id, scope, version: 0, includedMid: m.includedMid },
          null,
        );
      } else drop.push(m);
    }
    await this.#deleteRecords(drop);
  }
}
