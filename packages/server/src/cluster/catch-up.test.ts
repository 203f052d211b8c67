import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../ops/logger.js';
import type { StoredHistoryEntry, SyncStorage } from '../storage/storage.js';
import { CommitBus } from '../sync/commit-bus.js';
import { scopeRoom, type SyncIo } from '../transport/context.js';
import { processTimers } from './backoff.js';
import { LOSS_MARGIN_MS, startCatchUp } from './catch-up.js';
import type { ClusterFanout, ReconnectInfo } from './cluster-fanout.js';

/**
 * One scope room (`board:1`) on this node; `head` fails while `failing`, and every scope's head
 * is 2 (`board:1` 0: nothing to announce). Emits are recorded as `local|everywhere scope`.
 */
function setup() {
  let reconnect: ((info?: ReconnectInfo) => void) | undefined;
  const cluster = {
    onReconnect: (l: (info?: ReconnectInfo) => void) => {
      reconnect = l;
      return () => (reconnect = undefined);
    },
  } as unknown as ClusterFanout;
  const emits: string[] = [];
  const sender = (where: string) => ({
    to: (room: string) => ({ emit: () => emits.push(`${where} ${room.split(':').slice(1).join(':')}`) }),
  });
  const io = {
    of: () => ({ adapter: { rooms: new Map([[scopeRoom('board:1' as never), new Set()]]) } }),
    local: sender('local'),
    ...sender('everywhere'),
  } as unknown as SyncIo;
  const s = { failing: true, reads: [] as number[] };
  const storage = {
    head: async (scope: string) => {
      s.reads.push(Date.now());
      if (s.failing) throw new Error('database down');
      return scope === 'board:1' ? 0 : 2;
    },
    scopeHistory: async (scope: string) => ({
      entries: [{ scope, version: 2, collection: 'cards', id: 'x', op: 'put', value: {} }],
    }),
  } as unknown as SyncStorage;
  const lines: string[] = [];
  const log = (level: string) => (msg: string, f?: Record<string, unknown>) => {
    const retry = f?.['retryInMs'];
    lines.push(`${level} ${msg}${typeof retry === 'number' ? ` ${retry}` : ''}`);
  };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const commits = new CommitBus((err) => {
    throw err;
  });
  const commit = (scope: string) =>
    commits.publish({
      changes: [{ scope } as unknown as StoredHistoryEntry],
      source: 'client',
      committedAt: 0,
    });
  const catchUp = startCatchUp({
    cluster,
    io,
    storage,
    commits,
    logger,
    timers: processTimers,
    clock: { now: () => Date.now() },
  });
  return { s, lines, emits, commit, catchUp, reconnect: (info?: ReconnectInfo) => reconnect?.(info) };
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

  it('announces to every node the scopes this node committed to since shortly before the loss', async () => {
    const { s, emits, commit, reconnect } = setup();
    s.failing = false;
    commit('board:old'); // long before the loss: its broadcast went out
    await vi.advanceTimersByTimeAsync(60_000);
    commit('board:edge'); // just before the loss was noticed: maybe into a dead connection
    await vi.advanceTimersByTimeAsync(LOSS_MARGIN_MS - 1000);
    const downSince = Date.now();
    commit('board:down'); // while down
    commit('board:1');
    await vi.advanceTimersByTimeAsync(2000);
    reconnect({ downSince });
    await vi.advanceTimersByTimeAsync(0);
    expect(emits.sort()).toEqual(['everywhere board:down', 'everywhere board:edge']);
  });

  it('a fan-out that does not say when it went down gets every remembered scope announced', async () => {
    const { s, emits, commit, reconnect } = setup();
    s.failing = false;
    commit('board:old');
    await vi.advanceTimersByTimeAsync(60_000);
    commit('board:new');
    reconnect();
    await vi.advanceTimersByTimeAsync(0);
    expect(emits.sort()).toEqual(['everywhere board:new', 'everywhere board:old']);
  });
});
