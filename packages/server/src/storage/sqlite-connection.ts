import type Database from 'better-sqlite3';
import { runOnCommit } from './sql-backend-shared.js';
import type { Statements } from './sqlite-schema.js';
import { SqliteTx } from './sqlite-tx.js';
import type { StorageTx } from './storage.js';

/** Transactions per group commit: bounds how long the last of a group waits for the first. */
const MAX_GROUP = 128;

/** The next event-loop turn; captured at load, so tests faking timers cannot stall commits. */
const nextTurn: (fn: () => void) => void = globalThis.setImmediate.bind(globalThis);

/** A queued `transaction()` call. */
interface Job {
  readonly fn: (tx: StorageTx) => Promise<unknown>;
  readonly onCommit: ((result: unknown) => void) | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The one better-sqlite3 connection of a `SqliteStorage` and the order of work on it.
 *
 * better-sqlite3 is synchronous and a connection has one transaction at a time, while
 * `transaction(fn)` awaits `fn` between statements. So every operation runs through one FIFO
 * queue on the connection: a transaction holds it from `BEGIN IMMEDIATE` to `COMMIT`, and reads
 * wait for it, so no read ever sees another caller's uncommitted writes. A read on an idle
 * connection runs at once, without a trip through the queue.
 */
export class SqliteConnection {
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Transactions waiting for the next group (see `transaction`). */
  private readonly pending: Job[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
  ) {}

  /** Runs `fn` alone on the connection, after everything queued before it. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.closing) return Promise.reject(new Error('SqliteStorage is closed'));
    return this.enqueue(fn);
  }

  /** `exclusive` without the closed check: for work accepted before `close()` (groups, close). */
  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    this.queued++;
    const result = this.queue.then(fn).finally(() => this.queued--);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** A read: immediate when nothing is queued (then no transaction can be open), else queued. */
  read<T>(fn: () => T): Promise<T> {
    if (this.closing || this.queued > 0) return this.exclusive(fn);
    // The executor runs synchronously, and a throw in it becomes a rejection.
    return new Promise<T>((resolve) => resolve(fn()));
  }

  /**
   * Runs a synchronous unit in its own transaction. IMMEDIATE takes the file's write lock up
   * front, so a writer never fails upgrading a read lock; DEFERRED is a read snapshot.
   */
  atomically<T>(fn: () => T, mode: 'IMMEDIATE' | 'DEFERRED' = 'IMMEDIATE'): T {
    this.db.exec(`BEGIN ${mode}`);
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /**
   * Group commit: transactions that queue up while one runs are run together, each in its own
   * savepoint of one SQLite transaction, and committed with one COMMIT — one WAL sync for the
   * group instead of one per transaction. A transaction that throws is rolled back to its
   * savepoint alone; none resolves before the group's COMMIT, and onCommit runs for each in
   * order after it. The first of a group never waits for company: grouping only batches what is
   * queued anyway, so it costs no latency.
   */
  transaction<T>(fn: (tx: StorageTx) => Promise<T>, onCommit?: (result: T) => void): Promise<T> {
    if (this.closing) return Promise.reject(new Error('SqliteStorage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        fn: fn,
        onCommit: onCommit as ((result: unknown) => void) | undefined,
        resolve: resolve as (result: unknown) => void,
        reject,
      });
      // One runner per group: it takes whatever is pending when its turn on the connection comes.
      // It starts on the next loop turn, after this turn's socket reads queued their pushes too:
      // started at once, a group would only ever hold the push whose read scheduled it.
      if (this.pending.length === 1) nextTurn(() => void this.enqueue(() => this.runGroup()));
    });
  }

  private async runGroup(): Promise<void> {
    const group = this.pending.splice(0, MAX_GROUP);
    // What is left over was queued without a runner of its own (see `transaction`).
    if (this.pending.length > 0) void this.enqueue(() => this.runGroup());
    if (group.length === 0) return;
    const done: { job: Job; result: unknown }[] = [];
    const fail = (err: unknown) => {
      for (const { job } of done) job.reject(err);
      done.length = 0;
    };
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      for (const job of group) job.reject(err);
      return;
    }
    for (const [i, job] of group.entries()) {
      if (!this.db.inTransaction) {
        // An error that SQLite answers by rolling back everything (e.g. SQLITE_FULL) took the
        // group's earlier work with it.
        job.reject(new Error('group transaction was rolled back by an earlier error'));
        continue;
      }
      const name = `grp_${i}`;
      const tx = new SqliteTx(this.db, this.st);
      this.db.exec(`SAVEPOINT ${name}`);
      try {
        const result = await job.fn(tx);
        tx.finish();
        tx.end();
        this.db.exec(`RELEASE ${name}`);
        done.push({ job, result });
      } catch (err) {
        tx.end();
        if (this.db.inTransaction) this.db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        else fail(err);
        job.reject(err);
      }
    }
    try {
      if (this.db.inTransaction) this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      fail(err);
    }
    for (const { job, result } of done) {
      runOnCommit(job.onCommit, result);
      job.resolve(result);
    }
  }

  /** Refuses new work at once and closes the connection after what was accepted before. */
  close(): Promise<void> {
    // What was called before runs first: a group runner scheduled for the next turn is queued
    // before this close (both go through `nextTurn`).
    this.closing ??= new Promise<void>((resolve) => nextTurn(resolve)).then(() =>
      this.enqueue(() => {
        this.db.close();
      }),
    );
    return this.closing;
  }
}
