import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PruneStats, RetentionPolicy, SyncStorage } from '../storage/storage.js';
import { silentLogger } from './logger.js';
import { startRetention } from './retention.js';

const STATS: PruneStats = { historyRemoved: 1, tombstonesRemoved: 0, clientsRemoved: 0 };

function fakeStorage(fail = false) {
  const calls: { policy: RetentionPolicy; now: number }[] = [];
  // Only `prune` is called.
  const storage: Pick<SyncStorage, 'prune'> = {
    prune: (policy, now) => {
      calls.push({ policy, now });
      return fail ? Promise.reject(new Error('down')) : Promise.resolve(STATS);
    },
  };
  return { storage, calls };
}

const deps = { clock: { now: () => 42 }, logger: silentLogger };

describe('startRetention', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('prunes with the policy, without its interval, every intervalMs until stopped', async () => {
    const { storage, calls } = fakeStorage();
    const retention = startRetention(storage, { keepVersions: 3, intervalMs: 1_000 }, deps);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(calls).toEqual([
      { policy: { keepVersions: 3 }, now: 42 },
      { policy: { keepVersions: 3 }, now: 42 },
    ]);
    retention.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toHaveLength(2);
  });

  it('runs hourly by default, and a failed round does not stop the next', async () => {
    const { storage, calls } = fakeStorage(true);
    const retention = startRetention(storage, { keepVersions: 1 }, deps);
    await vi.advanceTimersByTimeAsync(3_599_999);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(3_600_001);
    expect(calls).toHaveLength(2);
    retention.stop();
  });

  it('without a policy: no timer, and prune() applies an empty policy on demand', async () => {
    const { storage, calls } = fakeStorage();
    const retention = startRetention(storage, undefined, deps);
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(calls).toHaveLength(0);
    await expect(retention.prune()).resolves.toBe(STATS);
    expect(calls).toEqual([{ policy: {}, now: 42 }]);
  });
});
