import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, processTimers, startRetryLoop, type Backoff } from './backoff.js';

const STEADY: Backoff = { minMs: 100, maxMs: 1000, jitter: false };

describe('backoffDelay', () => {
  it('doubles from minMs and stops at maxMs', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(STEADY, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('with jitter, scales each delay into [half, whole)', () => {
    const jittered = { ...STEADY, jitter: true };
    expect(backoffDelay(jittered, 1, () => 0)).toBe(100);
    expect(backoffDelay(jittered, 1, () => 0.5)).toBe(150);
    expect(backoffDelay(jittered, 5, () => 0.999)).toBeCloseTo(999.5);
  });
});

describe('startRetryLoop', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** An attempt that fails `failures` times, then succeeds; records when each try started. */
  function flaky(failures: number) {
    const starts: number[] = [];
    const attempt = async () => {
      starts.push(Date.now());
      if (starts.length <= failures) throw new Error(`try ${starts.length}`);
    };
    return { starts, attempt };
  }

  it('tries at once, then after each delay of the backoff, until one succeeds', async () => {
    const t0 = Date.now();
    const { starts, attempt } = flaky(3);
    const failures: [string, number][] = [];
    const onSuccess = vi.fn();
    const loop = startRetryLoop({
      attempt,
      backoff: STEADY,
      timers: processTimers,
      onFailure: (err, ms) => failures.push([(err as Error).message, ms]),
      onSuccess,
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await loop.done).toBe(true);
    expect(starts.map((t) => t - t0)).toEqual([0, 100, 300, 700]);
    expect(failures).toEqual([
      ['try 1', 100],
      ['try 2', 200],
      ['try 3', 400],
    ]);
    expect(onSuccess).toHaveBeenCalledTimes(1);
  });

  it('with pauseFirst, waits the first delay before the first try', async () => {
    const t0 = Date.now();
    const { starts, attempt } = flaky(1);
    startRetryLoop({
      attempt,
      backoff: STEADY,
      timers: processTimers,
      onFailure: () => {},
      pauseFirst: true,
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(starts).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts.map((t) => t - t0)).toEqual([100, 300]);
  });

  it('stop() cuts a pending delay short: no further try, done is false', async () => {
    const { starts, attempt } = flaky(Infinity);
    const onFailure = vi.fn();
    const loop = startRetryLoop({ attempt, backoff: STEADY, timers: processTimers, onFailure });
    await vi.advanceTimersByTimeAsync(150); // tries at 0 and 100, waiting 200 ms now
    await loop.stop();
    expect(await loop.done).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts).toHaveLength(2);
    expect(onFailure).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop() during a try waits for it, and neither its success nor its failure is reported', async () => {
    for (const outcome of ['resolve', 'reject'] as const) {
      let settle: (() => void) | undefined;
      const attempt = () =>
        new Promise<void>((resolve, reject) => {
          settle = outcome === 'resolve' ? resolve : () => reject(new Error('late'));
        });
      const onSuccess = vi.fn();
      const onFailure = vi.fn();
      const loop = startRetryLoop({ attempt, backoff: STEADY, timers: processTimers, onFailure, onSuccess });
      let stopped = false;
      const stopping = loop.stop().then(() => (stopped = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(stopped).toBe(false);
      settle!();
      await stopping;
      expect(await loop.done).toBe(false);
      expect(onSuccess).not.toHaveBeenCalled();
      expect(onFailure).not.toHaveBeenCalled();
    }
  });
});
