/**
 * The leader's lease: pure decisions, no I/O (the keeper in `../leader-lease-keeper.ts` reads and
 * writes the record in Syncline's meta table and runs the timers).
 *
 * Why a lease besides the Web Lock: a frozen or hung tab keeps its lock forever, so the lock
 * alone cannot tell a follower that nobody syncs. The leader renews `renewedAt` every
 * `heartbeatMs` while its code runs; a follower that has pending outbox entries and sees no
 * renewal for `staleAfterMs` takes over. Every claim increments `epoch`, a fencing token: the
 * leader checks it before each push, so a leader that wakes after losing sends nothing.
 */

/** The lease record (one per database, in Syncline's meta table). */
export interface LeaderLease {
  /** Incremented by every claim; the holder's pushes are valid only while it is unchanged. */
  readonly epoch: number;
  /** The tab (leadership instance) that claimed it. */
  readonly holder: string;
  /** When the holder last renewed it (its own clock). */
  readonly renewedAt: number;
}

/** How often the leader renews the lease, and how old a lease must be to be taken over. */
export interface LeaseTiming {
  /** The leader renews, and a follower looks at the lease, this often. */
  readonly heartbeatMs: number;
  /** A lease not renewed for longer is stale. */
  readonly staleAfterMs: number;
}

/**
 * 2 s heartbeat, stale after 6 s: a follower looks every 2 s, so it takes over at most 8 s after
 * the leader's last renewal (the bound is 10 s), while a busy leader whose timer runs
 * late by a few seconds keeps its lease.
 */
export const DEFAULT_LEASE_TIMING: LeaseTiming = { heartbeatMs: 2_000, staleAfterMs: 6_000 };

/** What one tab knows about its own claim. */
export interface LeaseClaim {
  readonly epoch: number;
  readonly holder: string;
}

/**
 * Whether the lease was not renewed for longer than `staleAfterMs`. No lease is not stale: then
 * nobody leads yet and the election grants the lock as usual. A renewal in the future (another
 * tab's clock ahead) is fresh.
 */
export function leaseStale(lease: LeaderLease | undefined, now: number, timing: LeaseTiming): boolean {
  return lease !== undefined && now - lease.renewedAt > timing.staleAfterMs;
}

/**
 * Whether a follower may take over: something waits to be pushed and the leader made no
 * progress for longer than the bound. With nothing pending a silent leader harms nobody.
 */
export function mayTakeOver(
  lease: LeaderLease | undefined,
  pending: number,
  now: number,
  timing: LeaseTiming,
): boolean {
  return pending > 0 && leaseStale(lease, now, timing);
}

/** The lease after `holder` claims it: the next epoch, renewed now. */
export function claimLease(lease: LeaderLease | undefined, holder: string, now: number): LeaderLease {
  return { epoch: (lease?.epoch ?? 0) + 1, holder, renewedAt: now };
}

/** Whether `claim` still holds the lease (nobody claimed it since). */
export function stillLeader(lease: LeaderLease | undefined, claim: LeaseClaim): boolean {
  return lease !== undefined && lease.epoch === claim.epoch && lease.holder === claim.holder;
}

/**
 * Whether the holder may push without reading the lease: it knows it wrote (and committed) the
 * lease with `renewedAt` itself, less than half the stale bound ago. No tab takes a lease over
 * before it is stale (`mayTakeOver`), and the tabs of one browser share a clock; a page about to
 * freeze hands its lock over without the lease going stale, so it forgets what it knows then
 * (`LeaseKeeper.forget`), and a tab that was hung finds `now` moved on. The fence then reads.
 */
export function fenceKnown(renewedAt: number | undefined, now: number, timing: LeaseTiming): boolean {
  return renewedAt !== undefined && now >= renewedAt && now - renewedAt < timing.staleAfterMs / 2;
}

/** The renewed lease, or undefined when `claim` lost it (the holder must step down). */
export function renewLease(
  lease: LeaderLease | undefined,
  claim: LeaseClaim,
  now: number,
): LeaderLease | undefined {
  if (!stillLeader(lease, claim)) return undefined;
  return { epoch: claim.epoch, holder: claim.holder, renewedAt: Math.max(now, lease!.renewedAt) };
}

/** A lease as stored (from IndexedDB, so checked): anything else counts as no lease. */
export function asLease(value: unknown): LeaderLease | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { epoch, holder, renewedAt } = value as Record<string, unknown>;
  if (typeof epoch !== 'number' || typeof holder !== 'string' || typeof renewedAt !== 'number')
    return undefined;
  return { epoch, holder, renewedAt };
}
