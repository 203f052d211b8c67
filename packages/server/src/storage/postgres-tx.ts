import type pg from 'pg';
import { asVersion } from '@syncline/protocol';
import type { ClientId, CollectionName, RecordId, ScopeId, Version } from '@syncline/protocol';
import type { Slot } from './commit-sequencer.js';
import type { PgStatements } from './postgres-schema.js';
import { PgWriteBuffer } from './postgres-write-buffer.js';
import { toClient, toHistory, toRecord } from './rows.js';
import type { ClientDbRow, HistoryRow, RecordRow } from './rows.js';
import { ScopeHeads } from './scope-heads.js';
import type {
  ClientRow,
  RecordKey,
  StorageTx,
  StoredHistoryEntry,
  StoredRecord,
  WritesAfter,
} from './storage.js';

/**
 * One READ COMMITTED transaction on one pooled connection. Concurrency control is by advisory
 * locks taken before the first read: the scope lock before anything touches a scope (so reads
 * see every earlier commit of that scope, and versions are allocated and committed in order
 * across all nodes), the client lock before the client's row is read (so a batch pushed to two
 * nodes at once is applied once). Locks taken inside a savepoint that rolls back are released by
 * PostgreSQL, so the set of held locks is tracked per savepoint level too.
 *
 * Round trips: writes are buffered (`PgWriteBuffer`) and versions after a scope's first are
 * counted in memory (`ScopeHeads`); `flush()` sends both as one statement, which the pool calls
 * before COMMIT. A savepoint flushes when it opens (so what it rolls back is only its own) and
 * before it is released (so a failing write fails inside it, as it would unbuffered).
 */
export class PgTx implements StorageTx {
  #open = true;
  #savepoints = 0;
  /** Locks held, per savepoint level (level 0 is the transaction). */
  readonly #locks: Set<string>[] = [new Set()];
  readonly #buffer = new PgWriteBuffer();
  readonly #heads = new ScopeHeads();

  constructor(
    private readonly client: pg.PoolClient,
    private readonly sql: PgStatements,
    private readonly slot: Slot,
  ) {}

  /** Sends the buffered writes and the heads counted in memory, in one statement. */
  async flush(): Promise<void> {
    const heads = this.#heads.dirty();
    if (this.#buffer.empty && heads.length === 0) return;
    await this.#query(this.sql.flush, this.#buffer.take(heads));
    this.#heads.written();
  }

  end(): void {
    this.#open = false;
  }

  #query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (!this.#open) return Promise.reject(new Error('storage transaction already ended'));
    return this.client.query<R>(text, values);
  }

  async #lock(space: string, key: string): Promise<void> {
    const name = `${space}\u0000${key}`;
    if (this.#locks.some((level) => level.has(name))) return;
    await this.#query(this.sql.lockScope, [space, key]);
    this.#locks[this.#locks.length - 1]!.add(name);
  }

  /** Takes the scope locks in one global (sorted) order, so two such transactions cannot deadlock. */
  async lockScopes(scopes: readonly ScopeId[]): Promise<void> {
    for (const scope of [...new Set(scopes)].sort()) await this.#lockScope(scope);
  }

  #lockScope(scope: ScopeId): Promise<void> {
    return this.#lock(this.sql.scopeLockSpace, scope);
  }

  async getClient(clientId: ClientId): Promise<ClientRow | undefined> {
    await this.#lock(this.sql.clientLockSpace, clientId);
    const buffered = this.#buffer.client(clientId);
    if (buffered) return buffered;
    const { rows } = await this.#query<ClientDbRow>(this.sql.getClient, [clientId]);
    return rows[0] && toClient(rows[0]);
  }

  async putClient(row: ClientRow): Promise<void> {
    await this.#lock(this.sql.clientLockSpace, row.clientId);
    this.#buffer.putClient(row);
  }

  async getRecord(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
  ): Promise<StoredRecord | undefined> {
    await this.#lockScope(scope);
    const known = this.#buffer.record(scope, collection, id);
    if (known !== undefined) return known ?? undefined;
    const { rows } = await this.#query<RecordRow>(this.sql.getRecord, [scope, collection, id]);
    return rows[0] && toRecord(rows[0]);
  }

  async prefetchRecords(keys: readonly RecordKey[]): Promise<void> {
    if (keys.length === 0) return;
    for (const scope of new Set(keys.map((k) => k.scope))) await this.#lockScope(scope);
    const { rows } = await this.#query<RecordRow>(this.sql.getRecords, [
      keys.map((k) => k.scope),
      keys.map((k) => k.collection),
      keys.map((k) => k.id),
    ]);
    this.#buffer.held(keys, rows.map(toRecord));
  }

  async putRecord(r: StoredRecord): Promise<void> {
    await this.#lockScope(r.scope);
    this.#buffer.putRecord(r);
  }

  async nextVersion(scope: ScopeId): Promise<Version> {
    await this.#lockScope(scope);
    const next = this.#heads.bump(scope);
    if (next !== undefined) return asVersion(next);
    const { rows } = await this.#query<{ head: number }>(this.sql.nextVersion, [scope]);
    const head = rows[0]?.head;
    if (head === undefined) throw new Error(`no version allocated for scope ${scope}`);
    // The first version of the scope in this transaction is what orders its publication.
    this.slot.allocated(scope, head);
    this.#heads.stored(scope, head);
    return asVersion(head);
  }

  async appendHistory(e: StoredHistoryEntry): Promise<void> {
    await this.#lockScope(e.scope);
    this.#buffer.appendHistory(e);
  }

  async getHistoryEntry(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    version: Version,
  ): Promise<StoredHistoryEntry | undefined> {
    await this.#lockScope(scope);
    if (this.#buffer.hasHistoryOf(scope, collection, id)) await this.flush();
    const { rows } = await this.#query<HistoryRow>(this.sql.historyEntry, [scope, collection, id, version]);
    return rows[0] && toHistory(rows[0]);
  }

  async writesAfter(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    after: Version,
    clientId: ClientId,
  ): Promise<WritesAfter> {
    await this.#lockScope(scope);
    if (this.#buffer.hasHistoryOf(scope, collection, id)) await this.flush();
    const { rows } = await this.#query<{ first_prev: string | number | null; others: boolean }>(
      this.sql.writesAfter,
      [scope, collection, id, after, clientId],
    );
    const row = rows[0];
    return {
      reaches: row?.first_prev != null && Number(row.first_prev) === after,
      others: row?.others === true,
    };
  }

  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    // Names are never reused within a transaction, so an inner savepoint cannot shadow an outer one.
    const name = `sp_${++this.#savepoints}`;
    await this.flush();
    await this.#query(`SAVEPOINT ${name}`, []);
    this.#locks.push(new Set());
    this.slot.enterSavepoint();
    this.#heads.enter();
    try {
      const result = await fn();
      await this.flush();
      await this.#query(`RELEASE SAVEPOINT ${name}`, []);
      this.#leave(true);
      return result;
    } catch (err) {
      this.#buffer.clear();
      this.#leave(false);
      // If the connection itself failed, the outer transaction fails too; the first error wins.
      await this.#query(`ROLLBACK TO SAVEPOINT ${name}`, []).catch(() => undefined);
      throw err;
    }
  }

  #leave(kept: boolean): void {
    const level = this.#locks.pop();
    if (kept && level) for (const l of level) this.#locks[this.#locks.length - 1]!.add(l);
    this.slot.leaveSavepoint(kept);
    this.#heads.leave(kept);
  }
}
