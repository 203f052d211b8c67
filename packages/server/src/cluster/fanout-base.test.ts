import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../ops/logger.js';
import type { Backoff } from './backoff.js';
import { FanoutBase, type FanoutDriver } from './fanout-base.js';

const RECONNECT: Backoff = { minMs: 100, maxMs: 1000, jitter: false };

/** Log lines as `level msg`. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A driver whose connection attempts fail until `healthy`, and that counts what it is asked. */
function fakeDriver(extra: Partial<FanoutDriver> = {}) {
  const d = {
    healthy: false,
    connected: false,
    connects: [] as number[],
    released: 0,
    driver: undefined as unknown as FanoutDriver,
  };
  d.driver = {
    adapter: () => undefined as never,
    connect: async () => {
      d.connects.push(Date.now());
      if (!d.healthy) throw new Error('refused');
      d.connected = true;
    },
    isUp: () => d.connected,
    release: async () => {
      d.released++;
      d.connected = false;
    },
    ...extra,
  };
  return d;
}

describe('FanoutBase, reconnecting by itself (PostgreSQL)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const d = fakeDriver();
    const logger = recordingLogger();
    const fanout = new FanoutBase({
      kind: 'postgres',
      logger,
      driver: d.driver,
      reconnect: RECONNECT,
      reconnects: 'base',
    });
    return { d, logger, fanout };
  }

  it('start retries with backoff until the first connection, warning on each failure', async () => {
    const { d, logger, fanout } = setup();
    const t0 = Date.now();
    const started = fanout.start(10_000, 'no connection');
    await vi.advanceTimersByTimeAsync(250); // tries at 0, 100; next at 300
    d.healthy = true;
    await vi.advanceTimersByTimeAsync(100);
    await started;
    expect(d.connects.map((t) => t - t0)).toEqual([0, 100, 300]);
    expect(fanout.state).toBe('up');
    expect(fanout.ready()).toBe(true);
    expect(logger.lines).toEqual(['warn fanout error', 'warn fanout error']);
  });

  it('start rejects after its deadline, stops trying and releases the driver once', async () => {
    const { d, fanout } = setup();
    const started = fanout.start(1000, 'no connection within 1000 ms');
    const outcome = started.catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await outcome).toMatchObject({ message: 'no connection within 1000 ms' });
    const tries = d.connects.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(d.connects).toHaveLength(tries);
    expect(d.released).toBe(1);
    expect(fanout.state).toBe('closed');
  });

  it('after a loss: warns once, pauses, retries quietly, then logs the restore and signals onReconnect once', async () => {
    const { d, logger, fanout } = setup();
    d.healthy = true;
    await fanout.start(1000, 'x');
    const reconnects = vi.fn();
    fanout.onReconnect(reconnects);
    logger.lines.length = 0;
    d.connects.length = 0;

    const lostAt = Date.now();
    d.connected = false;
    d.healthy = false;
    fanout.lost(new Error('terminated'));
    expect(fanout.state).toBe('down');
    expect(d.connects).toEqual([]); // the first try waits one delay
    await vi.advanceTimersByTimeAsync(99);
    expect(d.connects).toEqual([]);
    await vi.advanceTimersByTimeAsync(1); // try at 100 fails; next at 100 + 200
    fanout.lost(new Error('again')); // a loss while reconnecting starts no second loop
    await vi.advanceTimersByTimeAsync(199);
    expect(d.connects.map((t) => t - lostAt)).toEqual([100]);
    d.healthy = true;
    await vi.advanceTimersByTimeAsync(1);
    expect(d.connects.map((t) => t - lostAt)).toEqual([100, 300]);
    expect(fanout.state).toBe('up');
    expect(reconnects).toHaveBeenCalledTimes(1);
    expect(logger.lines).toEqual([
      'warn fanout connection lost; cross-node broadcasts pause until it is back',
      'debug fanout error',
      'debug fanout connection attempt failed',
      'info fanout connection restored',
    ]);
  });

  it('close during a reconnection pause: no further try, listeners dropped, released once', async () => {
    const { d, fanout } = setup();
    d.healthy = true;
    await fanout.start(1000, 'x');
    const reconnects = vi.fn();
    fanout.onReconnect(reconnects);
    fanout.lost(new Error('gone'));
    await fanout.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(d.connects).toHaveLength(1);
    expect(d.released).toBe(1);
    expect(reconnects).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a removed onReconnect listener is not called', async () => {
    const { d, fanout } = setup();
    d.healthy = true;
    await fanout.start(1000, 'x');
    const kept = vi.fn();
    const removed = vi.fn();
    fanout.onReconnect(kept);
    fanout.onReconnect(removed)();
    fanout.lost(new Error('gone'));
    await vi.advanceTimersByTimeAsync(100);
    expect([kept.mock.calls.length, removed.mock.calls.length]).toEqual([1, 0]);
  });
});

describe('FanoutBase, with a client that reconnects itself (Redis)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('never calls connect again after a loss; the client reports up, and only then is it restored', async () => {
    const abort = vi.fn();
    const d = fakeDriver({ abort });
    d.healthy = true;
    const logger = recordingLogger();
    const fanout = new FanoutBase({
      kind: 'redis',
      logger,
      driver: d.driver,
      reconnect: RECONNECT,
      reconnects: 'driver',
    });
    fanout.lost(new Error('refused before the first connection'));
    fanout.up();
    await fanout.start(1000, 'x');
    const reconnects = vi.fn();
    fanout.onReconnect(reconnects);
    fanout.lost(new Error('socket closed'));
    fanout.lost(new Error('refused'));
    fanout.lost(); // `end`: no line
    await vi.advanceTimersByTimeAsync(60_000);
    expect(d.connects).toHaveLength(1);
    expect(reconnects).not.toHaveBeenCalled();
    fanout.up();
    expect(reconnects).toHaveBeenCalledTimes(1);
    expect(logger.lines).toEqual([
      'debug fanout connection attempt failed',
      'warn fanout connection lost; cross-node broadcasts pause until it is back',
      'debug fanout connection attempt failed',
      'info fanout connection restored',
    ]);
    expect(abort).not.toHaveBeenCalled();
  });

  it('a start that fails (connect, deadline or afterConnect) is undone with abort, not release', async () => {
    const cases: [Partial<FanoutDriver>, string][] = [
      [{ connect: () => Promise.reject(new Error('bad url')) }, 'bad url'],
      [{ connect: () => new Promise<void>(() => {}) }, 'deadline'],
      [{ afterConnect: () => Promise.reject(new Error('reader never started')) }, 'reader never started'],
    ];
    for (const [extra, message] of cases) {
      const abort = vi.fn();
      const d = fakeDriver({ abort, ...extra });
      d.healthy = true;
      const logger = recordingLogger();
      const fanout = new FanoutBase({
        kind: 'redis',
        logger,
        driver: d.driver,
        reconnect: RECONNECT,
        reconnects: 'driver',
      });
      const outcome = fanout.start(1000, 'deadline').catch((err: unknown) => (err as Error).message);
      await vi.advanceTimersByTimeAsync(1000);
      expect(await outcome).toBe(message);
      expect(abort).toHaveBeenCalledTimes(1);
      expect(d.released).toBe(0);
      expect(fanout.state).toBe('closed');
    }
  });
});
