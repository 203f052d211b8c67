import { describe, expect, it } from 'vitest';
import {
  asLease,
  fenceKnown,
  claimLease,
  DEFAULT_LEASE_TIMING,
  leaseStale,
  mayTakeOver,
  renewLease,
  stillLeader,
  type LeaderLease,
} from './leader-lease.js';

const timing = { heartbeatMs: 100, staleAfterMs: 300 };
const lease: LeaderLease = { epoch: 3, holder: 'a', renewedAt: 1_000 };

describe('the leader lease', () => {
  it('is stale only once it was not renewed for longer than the bound', () => {
    expect(leaseStale(lease, 1_300, timing)).toBe(false);
    expect(leaseStale(lease, 1_301, timing)).toBe(true);
    // Another tab's clock ahead of ours: a renewal "in the future" is fresh.
    expect(leaseStale(lease, 500, timing)).toBe(false);
    // Nobody ever led: the election grants the lock, there is nothing to take over.
    expect(leaseStale(undefined, 1e12, timing)).toBe(false);
  });

  it('is taken over only when something is pending and the leader made no progress', () => {
    expect(mayTakeOver(lease, 0, 10_000, timing)).toBe(false);
    expect(mayTakeOver(lease, 5, 1_200, timing)).toBe(false);
    expect(mayTakeOver(lease, 5, 1_301, timing)).toBe(true);
    expect(mayTakeOver(undefined, 5, 10_000, timing)).toBe(false);
  });

  it('moves the epoch on every claim, fencing the previous holder', () => {
    const first = claimLease(undefined, 'a', 10);
    expect(first).toEqual({ epoch: 1, holder: 'a', renewedAt: 10 });
    const taken = claimLease(first, 'b', 20);
    expect(taken).toEqual({ epoch: 2, holder: 'b', renewedAt: 20 });
    expect(stillLeader(taken, { epoch: 1, holder: 'a' })).toBe(false);
    expect(stillLeader(taken, { epoch: 2, holder: 'b' })).toBe(true);
    // The same tab claiming again (it lost and won back) is a new epoch too.
    expect(stillLeader(claimLease(taken, 'b', 30), { epoch: 2, holder: 'b' })).toBe(false);
    expect(stillLeader(undefined, { epoch: 1, holder: 'a' })).toBe(false);
  });

  it('renews only for the holder, never moving renewedAt back', () => {
    expect(renewLease(lease, { epoch: 3, holder: 'a' }, 2_000)).toEqual({ ...lease, renewedAt: 2_000 });
    expect(renewLease(lease, { epoch: 3, holder: 'a' }, 900)).toEqual(lease);
    expect(renewLease(lease, { epoch: 2, holder: 'a' }, 2_000)).toBeUndefined();
    expect(renewLease(lease, { epoch: 3, holder: 'b' }, 2_000)).toBeUndefined();
    expect(renewLease(undefined, { epoch: 3, holder: 'a' }, 2_000)).toBeUndefined();
  });

  it('lets the holder skip reading it for half the stale bound after its own last write', () => {
    expect(fenceKnown(1_000, 1_000, timing)).toBe(true);
    expect(fenceKnown(1_000, 1_149, timing)).toBe(true);
    expect(fenceKnown(1_000, 1_150, timing)).toBe(false);
    // A clock that went back, or nothing known: read.
    expect(fenceKnown(1_000, 999, timing)).toBe(false);
    expect(fenceKnown(undefined, 1_000, timing)).toBe(false);
  });

  it('reads a stored lease, and anything malformed as none', () => {
    expect(asLease(lease)).toEqual(lease);
    expect(asLease({ epoch: '3', holder: 'a', renewedAt: 1 })).toBeUndefined();
    expect(asLease(null)).toBeUndefined();
    expect(asLease('lease')).toBeUndefined();
  });

  it('takes over within 10 s of the last renewal by default', () => {
    const { heartbeatMs, staleAfterMs } = DEFAULT_LEASE_TIMING;
    expect(staleAfterMs + heartbeatMs).toBeLessThanOrEqual(8_000);
    expect(staleAfterMs).toBeGreaterThanOrEqual(2 * heartbeatMs);
  });
});
