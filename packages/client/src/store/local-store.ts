import { Dexie, type Table } from 'dexie';
import {
  type Change,
  type CommittedRange,
  type JsonObject,
  type MutationResult,
  type ScopeId,
} from '@syncline/protocol';
import { applyServerStates, serverStatesOf } from './apply-changes.js';
import { discardOutbox } from './discard.js';
import { withSynclineDurability } from './durability.js';
import type { TxMarkers } from './outbox-middleware.js';
import { movedRows, OwnRanges } from './own-ranges.js';
import { guessedApply, GuessedWrong } from './guessed-apply.js';
import { FULL_PATH, leanApply, leanApplyStores, type ApplyPlan } from './lean-apply.js';
import { leanSettle, leanSettleStores, settlesLean } from './lean-settle.js';
import { liveFit } from './live-fit.js';
import { committedRead } from './live-read.js';
import { OpenTransactions } from './open-transactions.js';
import { queueRestore } from './queue-restore.js';
import { dropScopeRecords, evictScopeRecords, scopesWithRecords } from './scope-records.js';
import { settleResults, type SettleReport } from './settle-results.js';
import { INTERNAL_TABLES, SYNCLINE_TABLES, type OutboxEntry, type ScopeRow } from './schema.js';

/** What a live message did: nothing (`stale`, `gap`), or the changes that were new. */
type LiveOutcome = 'stale' | 'gap' | { readonly fresh: readonly Change[] };

/** Where a batch of server changes moves its scope's cursor. */
interface CursorMove {
  readonly to: number;
  readonly horizon?: number;
  readonly reset?: boolean;
  /** The pull reached the head: the scope's initial sync is done. */
  readonly complete?: boolean;
}

/**
 * The client's local state machine for records: applies server changes (pull pages, live
 * changes) and settles push results in the app's tables, keeping confirmed copies and rebasing
 * pending mutations on top (the rule is in `record-rows.ts`). Every method runs in one IndexedDB
 * transaction marked as remote, so its writes are not queued again, and the scope cursor moves
 * in the same transaction as the data it covers.
 */
export class LocalStore {
  readonly #tables: string[];
  /** This client's own committed ranges the cursor has not reached yet (see `OwnRanges`). */
  readonly #own = new OwnRanges();
  /**
   * Each scope's stored row as this tab last read or wrote it (undefined: it had none): the
   * guess of the one-wave apply (`guessed-apply.ts`), which checks it. Absent: not known.
   */
  readonly #rows = new Map<ScopeId, ScopeRow | undefined>();

  constructor(
    readonly db: Dexie,
    syncedTables: readonly string[],
    private readonly markers: TxMarkers,
    private readonly now: () => number,
  ) {
    this.#tables = [...syncedTables];
  }

  /**
   * Sync's open read-write transactions in this tab (`remote` ones and the lease's), aborted
   * when the page is about to freeze (`open.abortAll()`).
   */
  readonly open = new OpenTransactions();

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
    return this.#lean([...this.#tables, ...INTERNAL_TABLES], durability, fn);
  }

  async scopeRow(scope: ScopeId): Promise<ScopeRow> {
    const stored = await this.#t<ScopeRow>(SYNCLINE_TABLES.scopes).get(scope);
    this.#rows.set(scope, stored);
    return stored ?? { scope, cursor: 0, horizon: 0 };
  }

  /**
   * Up to `limit` outbox entries in mid order, those with a mid above `after` only. Read in one
   * transaction committed at once (`committedRead`): the push read runs often, and a tab frozen
   * inside it would hold every tab's writes.
   */
  pendingEntries(limit: number, after = 0): Promise<OutboxEntry[]> {
    const range = Dexie.dependencies.IDBKeyRange.lowerBound(after, true);
    return committedRead(this.db, [SYNCLINE_TABLES.outbox], (tx) => {
      const entries = tx.objectStore(SYNCLINE_TABLES.outbox).getAll(range, limit);
      return () => entries.result as OutboxEntry[];
    });
  }

  /**
   * Runs `fn` in a read-write transaction over exactly `stores` (not widened by the outbox
   * middleware, see `claimOwnTransaction`), marked remote, tracked in `open`.
   */
  #lean<R>(
    stores: readonly string[],
    durability: 'strict' | 'relaxed',
    fn: (tx: IDBTransaction) => Promise<R>,
  ): Promise<R> {
    return withSynclineDurability(durability, this.db.name, stores, () =>
      this.db.transaction('rw', [...stores], async (tx) => {
        this.markers.remote.add(tx.idbtrans);
        this.open.track(tx.idbtrans);
        return fn(tx.idbtrans);
      }),
    );
  }

  /**
   * Applies `plan`'s server states and scope row, decided against the stored row in the same
   * transaction: in one wave when this tab knows the scope's row (`guessed-apply.ts`), else, or
   * when that guess was wrong, on the lean path (`lean-apply.ts`: two waves over the scopes,
   * records and the batch's app tables), or, when a record may have pending mutations, on the
   * full one, which reads them from the outbox too.
   */
  async #apply<R>(
    scope: ScopeId,
    changes: readonly Change[],
    plan: (stored: ScopeRow) => ApplyPlan<R>,
  ): Promise<{ readonly result: R; readonly applied: number }> {
    const synced = changes.filter((c) => this.#tables.includes(c.collection));
    const stores = leanApplyStores(synced.map((c) => c.collection));
    const records = synced.map((c) => [c.collection, c.id] as const);
    // `plan` folds this client's own ranges into the cursor (`OwnRanges.fold` drops those it
    // passes): each later path plans again, from the ranges as they were.
    const own = this.#own.get(scope);
    let full = false;
    if (this.#rows.has(scope)) {
      const guess = this.#rows.get(scope);
      const planned = plan(guess ?? { scope, cursor: 0, horizon: 0 });
      try {
        const out = await this.#lean(stores, 'relaxed', (tx) =>
          guessedApply(this.db, tx, scope, guess, planned),
        );
        this.#rows.set(scope, planned.row ?? guess);
        return out;
      } catch (err) {
        this.#own.set(scope, own);
        // The row as guessed, but a record may have pending mutations: straight to the full path.
        full = err instanceof GuessedWrong && err.reason === 'pending';
        if (!full) this.#rows.delete(scope);
        if (!(err instanceof GuessedWrong)) throw err;
      }
    }
    if (!full) {
      const lean = await this.#lean(stores, 'relaxed', (tx) => leanApply(this.db, tx, scope, records, plan));
      if (lean !== FULL_PATH) {
        this.#rows.set(scope, lean.row);
        return lean;
      }
      this.#own.set(scope, own);
    }
    const out = await this.#lean([...stores, SYNCLINE_TABLES.outbox], 'relaxed', async () => {
      const stored = await this.#t<ScopeRow>(SYNCLINE_TABLES.scopes).get(scope);
      const { states, row, result } = plan(stored ?? { scope, cursor: 0, horizon: 0 });
      const applied = await applyServerStates(this.db, scope, states, false);
      if (row) await this.#t<ScopeRow>(SYNCLINE_TABLES.scopes).put(row);
      return { result, applied, row: row ?? stored };
    });
    this.#rows.set(scope, out.row);
    return out;
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
    cursor: CursorMove,
  ): Promise<number> {
    if (cursor.reset !== true) {
      const out = await this.#apply(scope, changes, (stored) => ({
        states: serverStatesOf(this.#tables, changes, includedMid),
        row: this.#moved(stored, cursor),
        result: undefined,
      }));
      return out.applied;
    }
    // A reset drops the scope's records first: rare, on every table.
    this.#rows.delete(scope);
    return this.remote(async () => {
      const prev = await this.scopeRow(scope);
      this.#own.delete(scope); // versions of the history the server no longer has
      await dropScopeRecords(this.db, scope);
      const applied = await applyServerStates(
        this.db,
        scope,
        serverStatesOf(this.#tables, changes, includedMid),
        true,
      );
      await this.#t<ScopeRow>(SYNCLINE_TABLES.scopes).put(this.#moved(prev, cursor));
      this.#rows.delete(scope); // read inside, before the write
      return applied;
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
  ): Promise<LiveOutcome> {
    const out = await this.#apply(scope, changes, (stored): ApplyPlan<LiveOutcome> => {
      const prev = { ...stored, cursor: this.#own.fold(scope, stored.cursor) };
      const fit = liveFit(prev.cursor, after, changes.length);
      if (fit === 'stale' || fit === 'gap')
        return { states: [], ...(prev.cursor !== stored.cursor ? { row: prev } : {}), result: fit };
      const fresh = changes.slice(fit.skip);
      return {
        states: serverStatesOf(this.#tables, fresh, includedMid),
        row: this.#moved(prev, { to: after + changes.length }),
        result: { fresh },
      };
    });
    return out.result;
  }

  /** The scope's row once a batch moved its cursor. */
  #moved(prev: ScopeRow, cursor: CursorMove): ScopeRow {
    const synced = cursor.complete === true || (cursor.reset !== true && prev.synced === true);
    return {
      scope: prev.scope,
      cursor: this.#own.fold(prev.scope, Math.max(cursor.reset ? 0 : prev.cursor, cursor.to)),
      horizon: cursor.horizon ?? prev.horizon,
      ...(synced ? { synced } : {}),
    };
  }

  /**
   * Settles a push's results (each mutation's answer, conflicts and rejections, rebase; see
   * `settle-results.ts`) and, in the same transaction, moves each scope's cursor over the
   * versions the push committed once it reaches them. Returns the report and the cursors moved.
   * An answer of `applied` and `merged` results settles on the lean path (`lean-settle.ts`:
   * outbox, metas, cursors, the merged records' rows).
   */
  async settle(
    entries: readonly OutboxEntry[],
    results: readonly MutationResult[],
    committed: readonly CommittedRange[] = [],
    /** The last mid of each coalesced mutation, by its first (see `settleResults`). */
    spans?: ReadonlyMap<number, number>,
  ): Promise<SettleReport & { readonly cursors: ReadonlyMap<ScopeId, number> }> {
    // Kept aside until the transaction commits: the cursor must never move over versions
    // whose results were not stored.
    const next = this.#own.with(committed);
    const scopes = [...next.keys()];
    const cursors = new Map<ScopeId, number>();
    let moved: readonly ScopeRow[] = [];
    const move = (rows: readonly (ScopeRow | undefined)[]) => (moved = movedRows(next, rows, cursors));
    const report = settlesLean(entries, results, (t) => this.#tables.includes(t))
      ? await this.#lean(leanSettleStores(entries, results), 'strict', (tx) =>
          leanSettle(this.db, tx, entries, results, spans ?? new Map(), scopes, move),
        )
      : await this.#lean(this.#fullSettleStores(entries), 'strict', async () => {
          const out = await settleResults(this.db, entries, results, this.now, spans);
          const scopesTable = this.#t<ScopeRow>(SYNCLINE_TABLES.scopes);
          const rows = move(await scopesTable.bulkGet(scopes));
          if (rows.length > 0) await scopesTable.bulkPut(rows);
          return out;
        });
    for (const [scope, list] of next) this.#own.set(scope, list);
    for (const row of moved) if (this.#rows.has(row.scope)) this.#rows.set(row.scope, row);
    return { ...report, cursors };
  }

  /** Every store the full settle may write: Syncline's but the meta store, and the entries' tables. */
  #fullSettleStores(entries: readonly OutboxEntry[]): string[] {
    const { outbox, records, scopes, conflicts, rejections } = SYNCLINE_TABLES;
    const tables = new Set(entries.map((e) => e.table).filter((t) => this.#tables.includes(t)));
    return [outbox, records, scopes, conflicts, rejections, ...tables];
  }

  /**
   * Queues a `restore` of `version` for a record, showing `value` (that version's content, from
   * history) until the server answers. Goes through the outbox like any write.
   */
  async queueRestore(table: string, id: string, version: number, value: JsonObject | null): Promise<void> {
    await this.remote(() => queueRestore(this.db, { table, id }, version, value, this.now));
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
    this.#rows.clear();
    await this.remote(async () => {
      if (discardPending) {
        await discardOutbox(this.db);
        await Promise.all([
          this.#t(SYNCLINE_TABLES.conflicts).clear(),
          this.#t(SYNCLINE_TABLES.rejections).clear(),
        ]);
      }
      for (const s of await scopesWithRecords(this.db)) await dropScopeRecords(this.db, s, discardPending);
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
      this.#rows.delete(scope);
      await this.#t(SYNCLINE_TABLES.scopes).delete(scope);
      return evictScopeRecords(this.db, scope);
    });
  }
}
