// The leader's lease in IndexedDB (Syncline's meta table, key `leaderLease`): the leader claims
// it (a new epoch) and renews it on a timer; followers look at it on the same timer and take
// over a stale one when something waits in the outbox. The decisions are in
// `engine/leader-lease.ts`; this file only reads, writes and schedules.
import type { Dexie } from 'dexie';
import {
  asLease,
  claimLease,
  mayTakeOver,
  renewLease,
  stillLeader,
  type LeaderLease,
  type LeaseClaim,
  type LeaseTiming,
} from './engine/leader-lease.js';
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

  constructor(db: Dexie, timing: LeaseTiming, now: () => number) {
    this.#db = db;
    this.timing = timing;
    this.#now = now;
  }

  #meta() {
    return this.#db.table<LeaseRow, string>(SYNCLINE_TABLES.meta);
  }

  async #read(): Promise<LeaderLease | undefined> {
    return asLease((await this.#meta().get(LEASE_KEY))?.value);
  }

  /** Claims the lease for `holder` (a new epoch, fencing whoever held it). */
  claim(holder: string): Promise<LeaseClaim> {
    return this.#db.transaction('rw', SYNCLINE_TABLES.meta, async () => {
      const lease = claimLease(await this.#read(), holder, this.#now());
      await this.#meta().put({ key: LEASE_KEY, value: lease });
      return { epoch: lease.epoch, holder };
    });
  }

  /** Renews `claim`; false when another tab claimed the lease since (step down). */
  renew(claim: LeaseClaim): Promise<boolean> {
    return this.#db.transaction('rw', SYNCLINE_TABLES.meta, async () => {
      const lease = renewLease(await this.#read(), claim, this.#now());
      if (lease === undefined) return false;
      await this.#meta().put({ key: LEASE_KEY, value: lease });
      return true;
    });
  }

  /** The fence: whether `claim` still holds the lease (checked before every push). */
  async holds(claim: LeaseClaim): Promise<boolean> {
    return stillLeader(await this.#read(), claim);
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
