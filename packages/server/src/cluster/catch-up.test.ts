import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../ops/logger.js';
import type { SyncStorage } from '../storage/storage.js';
import { scopeRoom, type SyncIo } from '../transport/context.js';
import { processTimers } from './backoff.js';
import { startCatchUp } from './catch-up.js';
import type { ClusterFanout } from './cluster-fanout.js';

/** One scope room with head 0 (nothing to announce); `head` fails while `failing`. */
function setup() {
  let reconnect: (() => void) | undefined;
  const cluster = {
    onReconnect: (l: () => void) => {
      reconnect = l;
      return () => (reconnect = undefined);
    },
  } as unknown as ClusterFanout;
  const io = {
    of: () => ({ adapter: { rooms: new Map([[scopeRoom('board:1' as never), new Set()]]) } }),
  } as unknown as SyncIo;
  const s = { failing: true, reads: [] as number[] };
  const storage = {
    head: async () => {
      s.reads.push(Date.now());
      if (s.failing) throw new Error('database down');
      return 0;
    },
  } as unknown as SyncStorage;
  const lines: string[] = [];
  const log = (level: string) => (msg: string, f?: Record<string, unknown>) => {
    const retry = f?.['retryInMs'];
    lines.push(`${level} ${msg}${typeof retry === 'number' ? ` ${retry}` : ''}`);
  };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const catchUp = startCatchUp({ cluster, io, storage, logger, timers: processTimers });
  return { s, lines, catchUp, reconnect: () => reconnect?.() };
}

describe('startCatchUp', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('re-announces at once after a reconnect, retrying a failing storage at 250 ms doubling', async () => {
    const { s, lines, reconnect } = setup();
    const t0 = Date.now();
    reconnect();
    await vi.advanceTimersByTimeAsync(700); // tries at 0, 250, 750
    s.failing = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.reads.map((t) => t - t0)).toEqual([0, 250, 750]);
    expect(lines).toEqual([
      'warn re-announcing scope heads failed; retrying 250',
      'warn re-announcing scope heads failed; retrying 500',
      'info re-announced scope heads after fan-out reconnect',
    ]);
  });

  it('a newer reconnect supersedes a retrying one: its pending retry is dropped, the delays start over', async () => {
    const { s, reconnect } = setup();
    const t0 = Date.now();
    reconnect();
    await vi.advanceTimersByTimeAsync(300); // tries at 0, 250; next would be 750
    reconnect(); // at 300
    await vi.advanceTimersByTimeAsync(600); // tries at 300, 550
    expect(s.reads.map((t) => t - t0)).toEqual([0, 250, 300, 550]);
  });

  it('stop() ends retries and later reconnects are ignored', async () => {
    const { s, catchUp, reconnect } = setup();
    reconnect();
    await vi.advanceTimersByTimeAsync(100);
    catchUp.stop();
    reconnect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.reads).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
