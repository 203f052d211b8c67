import type pg from 'pg';
import { CommitSequencer } from './commit-sequencer.js';
import type { PgStatements } from './postgres-schema.js';
import { PgTx } from './postgres-tx.js';
import { runOnCommit } from './sql-backend-shared.js';
import type { StorageTx, TransactionOptions } from './storage.js';

/** PostgreSQL SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_ATTEMPTS = 8;

/**
 * How `PostgresStorage` uses its connection pool: transactions (retried after a deadlock or
 * serialization failure, published in commit order through a `CommitSequencer`), single-statement
 * reads, scope-locked maintenance, and the in-flight work that `close()` lets finish.
 */
export class PgPool {
  readonly #pool: pg.Pool;
  readonly #sql: PgStatements;
  readonly #sequencer = new CommitSequencer();
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #onError: (err: Error) => void;
  #closing: Promise<void> | undefined;

  constructor(pool: pg.Pool, sql: PgStatements, onError: (err: Error) => void) {
    this.#pool = pool;
    this.#sql = sql;
    this.#onError = onError;
  }

  /** A connection whose background errors are reported, not thrown, while it is checked out. */
  async connect(): Promise<pg.PoolClient> {
    if (this.#closing) throw new Error('PostgresStorage is closed');
    const client = await this.#pool.connect();
    client.on('error', this.#onError);
    return client;
  }

  release(client: pg.PoolClient, err?: unknown): void {
    client.removeListener('error', this.#onError);
    // A connection that failed mid-transaction is destroyed, never handed to the next caller.
    client.release(err instanceof Error ? err : undefined);
  }

  /** Counts `work` as in flight until it settles: `close()` waits for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#inflight.add(work);
    void work.then(
      () => this.#inflight.delete(work),
      () => this.#inflight.delete(work),
    );
    return work;
  }

  transaction<T>(
    fn: (tx: StorageTx) => Promise<T>,
    onCommit: ((result: T) => void) | undefined,
    opts: TransactionOptions,
  ): Promise<T> {
    if (this.#closing) return Promise.reject(new Error('PostgresStorage is closed'));
    return this.track(this.#transaction(fn, onCommit, opts));
  }

  async #transaction<T>(
    fn: (tx: StorageTx) => Promise<T>,
    onCommit: ((result: T) => void) | undefined,
    opts: TransactionOptions,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(fn, onCommit, opts);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw err;
        // The aborted transaction released its locks; a random pause breaks the symmetry.
        await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
      }
    }
  }

  async #attempt<T>(
    fn: (tx: StorageTx) => Promise<T>,
    onCommit: ((result: T) => void) | undefined,
    opts: TransactionOptions,
  ): Promise<T> {
    const client = await this.connect();
    const slot = this.#sequencer.open();
    const tx = new PgTx(client, this.#sql, slot);
    try {
      tx.begin(opts.scopes ?? []);
      const result = await fn(tx);
      await tx.commit();
      tx.end();
      this.release(client);
      slot.committed(() => runOnCommit(onCommit, result));
      return result;
    } catch (err) {
      tx.end();
      slot.failed();
      await tx.idle();
      await this.#rollback(client, err);
      throw err;
    }
  }

  /** One statement on any connection: one snapshot. */
  async read<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    if (this.#closing) throw new Error('PostgresStorage is closed');
    const { rows } = await this.track(this.#pool.query<R>(text, values));
    return rows;
  }

  /** Runs `fn` in a transaction holding `scope`'s lock (maintenance outside `transaction`). */
  async withScopeLock<T>(scope: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      await client.query(this.#sql.lockScope, [this.#sql.scopeLockSpace, scope]);
      const result = await fn(client);
      await client.query('COMMIT');
      this.release(client);
      return result;
    } catch (err) {
      await this.#rollback(client, err);
      throw err;
    }
  }

  /** Rolls back and releases; a connection that cannot even roll back is broken: destroyed, not pooled. */
  async #rollback(client: pg.PoolClient, err: unknown): Promise<void> {
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    this.release(client, rolledBack ? undefined : err);
  }

  /** Refuses new work, lets pending work finish (its failures are its callers' to see), ends the pool. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = (async () => {
        while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
        await this.#pool.end();
      })();
    }
    return this.#closing;
  }
}
