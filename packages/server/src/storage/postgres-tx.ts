import type pg from 'pg';
import { asVersion } from '@syncline/protocol';
import type { ClientId, CollectionName, RecordId, ScopeId, Version } from '@syncline/protocol';
import type { Slot } from './commit-sequencer.js';
import type { PgStatements } from './postgres-schema.js';
import { PgPipe } from './postgres-pipe.js';
import { PgWriteBuffer } from './postgres-write-buffer.js';
import { toClient, toHistory, toRecord } from './rows.js';
import type { ClientDbRow, HistoryRow, RecordRow } from './rows.js';
import { ScopeHeads } from './scope-heads.js';
import { WritesAfterCache } from './writes-after-cache.js';
import type {
  ClientRow,
  PrefetchKey,
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
 * Round trips: statements are pipelined (`PgPipe`): BEGIN, the listed scopes' locks and the
 * read of their heads go out with the first read, and the buffered writes with COMMIT. Writes
 * are buffered (`PgWriteBuffer`) and versions of a listed scope are counted in memory from the
 * head read under its lock (`ScopeHeads`; an unlisted scope's first version is an upsert of its
 * own); `flush()` sends both as one statement. A savepoint sends the buffered writes with its
 * SAVEPOINT (so what it rolls back is only its own) and with its RELEASE (so a failing write
 * fails inside it): one round trip each.
 */
export class PgTx implements StorageTx {
  #savepoints = 0;
  /** Locks held, per savepoint level (level 0 is the transaction). */
  readonly #locks: Set<string>[] = [new Set()];
  readonly #buffer = new PgWriteBuffer();
  readonly #heads = new ScopeHeads();
  readonly #writes = new WritesAfterCache();
  readonly #pipe: PgPipe;
  /** Settles once the heads of the scopes locked by `begin` are known to `#heads`. */
  #headsRead: Promise<unknown> = Promise.resolve();

  constructor(
    client: pg.PoolClient,
    private readonly sql: PgStatements,
    private readonly slot: Slot,
  ) {
    this.#pipe = new PgPipe(client);
  }

  /**
   * Sends BEGIN, then takes the scopes' locks in one global (sorted) order, so two such
   * transactions cannot deadlock, and reads their heads under them. Nothing waits for the
   * answers: they come back with the transaction's first read.
   */
  begin(scopes: readonly ScopeId[]): void {
    void this.#pipe.send('BEGIN');
    const sorted = [...new Set(scopes)].sort();
    for (const scope of sorted) this.#lockScope(scope);
    if (sorted.length === 0) return;
    this.#headsRead = this.#pipe
      .send<{ scope: string; head: number }>(this.sql.heads, [sorted])
      .then((res) => {
        if (!res) return;
        const found = new Map(res.rows.map((r) => [r.scope, r.head]));
        for (const scope of sorted) this.#heads.stored(scope, found.get(scope) ?? 0);
      });
  }

  /** Sends the buffered writes and the heads counted in memory (one statement), then COMMIT. */
  async commit(): Promise<void> {
    await this.#headsRead;
    const flushed = this.#sendFlush();
    const res = await this.#pipe.query('COMMIT');
    await flushed;
    // A COMMIT after a failed statement is answered ROLLBACK, not an error.
    this.#pipe.check();
    if (res.command !== 'COMMIT') throw new Error(`COMMIT answered ${res.command}`);
  }

  /** Sends the buffered writes and the heads counted in memory, in one statement. */
  async flush(): Promise<void> {
    await this.#headsRead;
    await this.#sendFlush();
    this.#pipe.check();
  }

  /** Writes the flush statement at once (the heads must be known), if there is anything to send. */
  #sendFlush(): Promise<unknown> {
    const heads = this.#heads.dirty();
    if (this.#buffer.empty && heads.length === 0) return Promise.resolve();
    const sent = this.#pipe.send(this.sql.flush, this.#buffer.take(heads));
    this.#heads.written();
    return sent;
  }

  end(): void {
    this.#pipe.end();
  }

  /** Resolves once the connection can take a statement from outside (ROLLBACK). */
  idle(): Promise<void> {
    return this.#pipe.idle();
  }

  #query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.#pipe.query<R>(text, values);
  }

  /** Sends the lock statement unless held; its answer comes with the next awaited statement. */
  #lock(space: string, key: string): void {
    const name = `${space}\u0000${key}`;
    if (this.#locks.some((level) => level.has(name))) return;
    void this.#pipe.send(this.sql.lockScope, [space, key]);
    this.#locks[this.#locks.length - 1]!.add(name);
  }

  #lockScope(scope: ScopeId): void {
    this.#lock(this.sql.scopeLockSpace, scope);
  }

  async getClient(clientId: ClientId): Promise<ClientRow | undefined> {
    this.#lock(this.sql.clientLockSpace, clientId);
    const buffered = this.#buffer.client(clientId);
    if (buffered) return buffered;
    const { rows } = await this.#query<ClientDbRow>(this.sql.getClient, [clientId]);
    return rows[0] && toClient(rows[0]);
  }

  async putClient(row: ClientRow): Promise<void> {
    this.#lock(this.sql.clientLockSpace, row.clientId);
    this.#buffer.putClient(row);
  }

  async getRecord(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
  ): Promise<StoredRecord | undefined> {
    this.#lockScope(scope);
    const known = this.#buffer.record(scope, collection, id);
    if (known !== undefined) return known ?? undefined;
    const { rows } = await this.#query<RecordRow>(this.sql.getRecord, [scope, collection, id]);
    return rows[0] && toRecord(rows[0]);
  }

  async prefetchRecords(keys: readonly PrefetchKey[], clientId?: ClientId): Promise<void> {
    if (keys.length === 0) return;
    for (const scope of new Set(keys.map((k) => k.scope))) this.#lockScope(scope);
    const based = clientId === undefined ? [] : keys.filter((k) => k.base !== undefined);
    const writes =
      based.length === 0
        ? undefined
        : this.#pipe.send<{ first_prev: number | null; others: boolean }>(this.sql.writesAfterMany, [
            based.map((k) => k.scope),
            based.map((k) => k.collection),
            based.map((k) => k.id),
            based.map((k) => k.base),
            clientId,
          ]);
    const { rows } = await this.#query<RecordRow>(this.sql.getRecords, [
      keys.map((k) => k.scope),
      keys.map((k) => k.collection),
      keys.map((k) => k.id),
    ]);
    this.#buffer.held(keys, rows.map(toRecord));
    const answers = (await writes)?.rows;
    this.#pipe.check();
    if (!answers || clientId === undefined) return;
    based.forEach((k, i) => this.#writes.held(k, k.base!, clientId, answers[i]!));
  }

  async putRecord(r: StoredRecord): Promise<void> {
    this.#lockScope(r.scope);
    this.#buffer.putRecord(r);
  }

  async nextVersion(scope: ScopeId): Promise<Version> {
    this.#lockScope(scope);
    await this.#headsRead;
    const next = this.#heads.bump(scope);
    if (next !== undefined) {
      // The first version of the scope in this transaction is what orders its publication.
      this.slot.allocated(scope, next);
      return asVersion(next);
    }
    const { rows } = await this.#query<{ head: number }>(this.sql.nextVersion, [scope]);
    const head = rows[0]?.head;
    if (head === undefined) throw new Error(`no version allocated for scope ${scope}`);
    this.slot.allocated(scope, head);
    this.#heads.stored(scope, head);
    return asVersion(head);
  }

  async appendHistory(e: StoredHistoryEntry): Promise<void> {
    this.#lockScope(e.scope);
    this.#writes.forget(e);
    this.#buffer.appendHistory(e);
  }

  async getHistoryEntry(
    scope: ScopeId,
    collection: CollectionName,
    id: RecordId,
    version: Version,
  ): Promise<StoredHistoryEntry | undefined> {
    this.#lockScope(scope);
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
    this.#lockScope(scope);
    const known = this.#writes.answer({ scope, collection, id }, after, clientId);
    if (known) return known;
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
    // The buffered writes go out with the statement (a failing one fails it: first error wins).
    await this.#headsRead;
    void this.#sendFlush();
    await this.#query(`SAVEPOINT ${name}`, []);
    this.#locks.push(new Set());
    this.slot.enterSavepoint();
    this.#heads.enter();
    try {
      const result = await fn();
      void this.#sendFlush();
      await this.#query(`RELEASE SAVEPOINT ${name}`, []);
      this.#leave(true);
      return result;
    } catch (err) {
      this.#buffer.clear();
      this.#writes.clear();
      this.#leave(false);
      // If the connection itself failed, the outer transaction fails too; the first error wins.
      await this.#pipe.rollbackTo(name).catch(() => undefined);
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
