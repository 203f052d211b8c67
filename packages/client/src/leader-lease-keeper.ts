// The leader's lease in IndexedDB (Syncline's meta table, key `leaderLease`): the leader claims
// it (a new epoch) and renews it on a timer; followers look at it on the same timer and take
// over a stale one when something waits in the outbox. The decisions are in
// `engine/leader-lease.ts`; this file only reads, writes and schedules.
//
// Why not a store of its own, out of reach of a hung leader's transactions: taking over needs
// the outbox's count, and the new leader's writes and pushes need the outbox and the records
// store anyway, so a hung leader holding those would still stop everything that matters. What
// keeps a hung leader from holding stores is that its transactions commit at once once their
// writes are placed (`store/final-wave.ts`); and the engine's apply and settle no longer open the
// meta store at all (docs/reliability.md).
import type { Dexie } from 'dexie';
import {
  asLease,
  claimLease,
  fenceKnown,
  mayTakeOver,
  renewLease,
  stillLeader,
  type LeaderLease,
  type LeaseClaim,
  type LeaseTiming,
} from './engine/leader-lease.js';
import { committedRead } from './store/live-read.js';
import type { OpenTransactions } from './store/open-transactions.js';
import { SYNCLINE_TABLES } from './store/schema.js';

const LEASE_KEY = 'leaderLease';

interface LeaseRow {
  readonly key: typeof LEASE_KEY;
  readonly value: LeaderLease;
}

export class LeaseKeeper {
  readonly #db: Dexie;
  readonly #now: () => number;
  readonly timing: LeaseTiming;

  readonly #open: OpenTransactions | undefined;
  /** The claim this tab holds and the `renewedAt` it last committed for it (see `fenceKnown`). */
  #known: (LeaseClaim & { readonly renewedAt: number }) | undefined;
  /** Bumped by `forget`: a claim or renewal that began before it teaches nothing. */
  #generation = 0;

  /** `open`: where the leader's renewals are tracked, so a page about to freeze aborts them. */
  constructor(db: Dexie, timing: LeaseTiming, now: () => number, open?: OpenTransactions) {
    this.#db = db;
    this.timing = timing;
    this.#now = now;
    this.#open = open;
  }

  #meta() {
    return this.#db.table<LeaseRow, string>(SYNCLINE_TABLES.meta);
  }

  async #read(): Promise<LeaderLease | undefined> {
    return asLease((await this.#meta().get(LEASE_KEY))?.value);
  }

  /** Claims the lease for `holder` (a new epoch, fencing whoever held it). */
  async claim(holder: string): Promise<LeaseClaim> {
    const generation = this.#generation;
    const lease = await this.#db.transaction('rw', SYNCLINE_TABLES.meta, async () => {
      const next = claimLease(await this.#read(), holder, this.#now());
      await this.#meta().put({ key: LEASE_KEY, value: next });
      return next;
    });
    if (generation === this.#generation) this.#known = lease;
    return { epoch: lease.epoch, holder };
  }

  /** Renews `claim`; false when another tab claimed the lease since (step down). */
  async renew(claim: LeaseClaim): Promise<boolean> {
    const generation = this.#generation;
    const lease = await this.#db.transaction('rw', SYNCLINE_TABLES.meta, async (tx) => {
      this.#open?.track(tx.idbtrans);
      const next = renewLease(await this.#read(), claim, this.#now());
      if (next !== undefined) await this.#meta().put({ key: LEASE_KEY, value: next });
      return next;
    });
    if (lease === undefined) this.forget();
    else if (generation === this.#generation && this.#known?.epoch === claim.epoch) this.#known = lease;
    return lease !== undefined;
  }

  /**
   * Forgets what this tab knows of its lease, so the next fence reads it: the tab is about to
   * freeze (its lock goes to another tab at once) or steps down.
   */
  forget(): void {
    this.#known = undefined;
    this.#generation++;
  }

  /**
   * The fence: whether `claim` still holds the lease (checked before every push). Read in one
   * transaction committed at once: a tab frozen inside it would hold every tab's writes (they
   * take the mid counter from the same store).
   */
  async holds(claim: LeaseClaim): Promise<boolean> {
    const known = this.#known;
    if (known?.epoch === claim.epoch && known.holder === claim.holder) {
      if (fenceKnown(known.renewedAt, this.#now(), this.timing)) return true;
    }
    const row = await committedRead(this.#db, [SYNCLINE_TABLES.meta], (tx) => {
      const req = tx.objectStore(SYNCLINE_TABLES.meta).get(LEASE_KEY);
      return () => req.result as LeaseRow | undefined;
    });
    return stillLeader(asLease(row?.value), claim);
  }

  /**
   * Takes a stale lease over for `holder` when the outbox has entries, in one transaction (two
   * followers never both take over one lease): the new epoch fences the old leader at once.
   */
  takeOverIfStale(holder: string): Promise<boolean> {
    const { meta, outbox } = SYNCLINE_TABLES;
    return this.#db.transaction('rw', [meta, outbox], async () => {
      const lease = await this.#read();
      const pending = await this.#db.table(outbox).count();
      if (!mayTakeOver(lease, pending, this.#now(), this.timing)) return false;
      await this.#meta().put({ key: LEASE_KEY, value: claimLease(lease, holder, this.#now()) });
      return true;
    });
  }
}

/** Runs `tick` every `ms` (never two at once) until the returned stop is called. */
export function every(ms: number, tick: () => Promise<void>): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const next = () => {
    timer = setTimeout(() => {
      tick()
        .catch(() => undefined) // a failed read (database closing) is retried on the next tick
        .finally(() => {
          if (!stopped) next();
        });
    }, ms);
  };
  next();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
