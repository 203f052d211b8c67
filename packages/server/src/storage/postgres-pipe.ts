import type pg from 'pg';

/**
 * The statements of one transaction on one connection, pipelined where the driver can (`pg`'s
 * `pipeline` mode): `send` writes a statement without waiting for its answer, `query` writes
 * one and waits. Answers come back in the order the statements were sent, so when a `query`
 * returns, everything sent before it was answered too: BEGIN, the scope locks and the first
 * reads of a push cost one round trip, the last writes and COMMIT another.
 *
 * The server still runs the statements one after another, each with its own snapshot (READ
 * COMMITTED), so a read sent after a lock sees every commit made before the lock was granted.
 *
 * Errors: once a statement fails, PostgreSQL refuses every later one of the transaction ("current
 * transaction is aborted"), so the first failure is the one that says what happened (a deadlock
 * to retry, a constraint). Every `query` — and `check()` — throws that first error, never a
 * later one. Without pipeline mode `send` waits like `query` (a connection that is not
 * pipelined must not have two statements queued).
 */
export class PgPipe {
  #first: { error: unknown } | undefined;
  #open = true;
  /** Without pipeline mode: the last statement written, which the next one waits for. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: pg.PoolClient) {}

  /** True when statements can be written ahead of their answers. */
  get pipelined(): boolean {
    return (this.client as { pipeline?: boolean }).pipeline === true;
  }

  /** Refuses every statement from now on: the transaction ended. */
  end(): void {
    this.#open = false;
  }

  /**
   * Writes a statement without waiting for its answer. The promise never rejects: it resolves
   * with the answer, or undefined when the statement failed, and the failure surfaces from the
   * next `query` or `check()`.
   */
  send<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R> | undefined> {
    return this.#write<R>(text, values).then(
      (result) => result,
      (err: unknown) => {
        this.#first ??= { error: err };
        return undefined;
      },
    );
  }

  /** Writes a statement and waits for its answer (and so for every answer before it). */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      const result = await this.#write<R>(text, values);
      this.check();
      return result;
    } catch (err) {
      this.#first ??= { error: err };
      throw this.#first.error;
    }
  }

  /** Throws the first error of the statements answered so far. */
  check(): void {
    if (this.#first) throw this.#first.error;
  }

  /**
   * Rolls back to a savepoint: the statements that failed inside it are undone with it, so
   * their errors no longer fail the transaction. Rejects when the rollback itself fails.
   */
  async rollbackTo(name: string): Promise<void> {
    try {
      await this.#write(`ROLLBACK TO SAVEPOINT ${name}`, []);
      this.#first = undefined;
    } catch (err) {
      this.#first ??= { error: err };
      throw err;
    }
  }

  /** Resolves once the connection can take a statement from outside the pipe. */
  async idle(): Promise<void> {
    if (!this.pipelined) await this.#tail;
  }

  #write<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (!this.#open) return Promise.reject(new Error('storage transaction already ended'));
    if (this.pipelined) return this.client.query<R>(text, values);
    const answer = this.#tail.then(() => this.client.query<R>(text, values));
    this.#tail = answer.catch(() => undefined);
    return answer;
  }
}
