import type { ServerOptions } from 'socket.io';
import { systemClock, type Clock } from '../ops/clock.js';
import type { Logger } from '../ops/logger.js';
import type { Timers } from '../ops/timers.js';
import { processTimers, startRetryLoop, type Backoff, type RetryLoop } from './backoff.js';
import type { ClusterFanout, ReconnectInfo } from './cluster-fanout.js';

/**
 * What a broker (PostgreSQL, Redis) fills in under `FanoutBase`: its connections and its
 * Socket.IO adapter. Publishing and subscribing are the adapter's; the driver tells the base
 * what happens to the connection through `up`, `lost` and `failed`.
 */
export interface FanoutDriver {
  /** The adapter for `new Server(http, { adapter })`; read once `start()` resolved. */
  adapter(): ServerOptions['adapter'];
  /** One attempt to establish the connection: resolves once it is up, rejects when it failed. */
  connect(): Promise<void>;
  /** True while broadcasts travel both ways right now (readiness). */
  isUp(): boolean;
  /** Work between the first connection and serving (default: none). */
  afterConnect?(): Promise<void>;
  /** Undoes a start that failed (default: `release`). */
  abort?(): Promise<void> | void;
  /** Releases every connection; called once, by `close()` (or a failed start without `abort`). */
  release(): Promise<void>;
}

export interface FanoutBaseOptions {
  readonly kind: 'postgres' | 'redis';
  readonly logger: Logger;
  readonly driver: FanoutDriver;
  /** Delays between attempts to re-establish a lost connection. */
  readonly reconnect: Backoff;
  /**
   * Who re-establishes a lost connection: the base, calling `driver.connect()` with backoff until
   * it succeeds, or the driver's client on its own (node-redis), reporting `up` when it is back.
   */
  readonly reconnects: 'base' | 'driver';
  /** Default: the process's timers. */
  readonly timers?: Timers;
  /** Stamps `downSince` of `onReconnect` (default: the system clock). */
  readonly clock?: Clock;
}

/** `starting` until the first connection, then `up` or `down` (degraded), `closed` at the end. */
export type FanoutState = 'starting' | 'up' | 'down' | 'closed';

/**
 * The broker-independent part of a `ClusterFanout`, as socket.io's `ClusterAdapter` is to its
 * PostgreSQL and Redis adapters: the lifecycle (`start` within a deadline, `close`),
 * re-establishing a lost connection with backoff, the up/down state, the log line of each
 * transition, and the `onReconnect` signal after which the server catches up (`startCatchUp`)
 * on broadcasts it may have missed. A backend fills in a `FanoutDriver` and reports what
 * happens to its connection through `up`, `lost` and `failed`.
 */
export class FanoutBase implements ClusterFanout {
  readonly kind: 'postgres' | 'redis';
  readonly #options: FanoutBaseOptions;
  readonly #timers: Timers;
  readonly #listeners = new Set<(info: ReconnectInfo) => void>();
  #state: FanoutState = 'starting';
  #downSince = 0;
  #loop: RetryLoop | undefined;

  constructor(options: FanoutBaseOptions) {
    this.kind = options.kind;
    this.#options = options;
    this.#timers = options.timers ?? processTimers;
  }

  get adapter(): ServerOptions['adapter'] {
    return this.#options.driver.adapter();
  }

  get state(): FanoutState {
    return this.#state;
  }

  ready(): boolean {
    return this.#options.driver.isUp();
  }

  onReconnect(listener: (info: ReconnectInfo) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Connects, then runs the driver's `afterConnect`. Rejects with `timeoutMessage` when the first
   * connection is not up within `timeoutMs` (a node never serves without fan-out), and with the
   * driver's error when it gives up; either way after undoing the start.
   */
  async start(timeoutMs: number, timeoutMessage: string): Promise<void> {
    const driver = this.#options.driver;
    let timer: unknown;
    try {
      await Promise.race([
        this.#options.reconnects === 'base' ? this.#firstConnection() : driver.connect(),
        new Promise<never>((_, reject) => {
          timer = this.#timers.setTimeout(() => reject(new Error(timeoutMessage)), timeoutMs);
        }),
      ]);
    } catch (err) {
      await this.#abort();
      throw err;
    } finally {
      this.#timers.clearTimeout(timer);
    }
    try {
      await driver.afterConnect?.();
    } catch (err) {
      await this.#abort();
      throw err;
    }
  }

  /** The connection is up: the first time `start` may go on; after a loss, catch up. */
  up(): void {
    if (this.#state === 'closed') return;
    const first = this.#state === 'starting';
    this.#state = 'up';
    if (first) return;
    this.#options.logger.info('fanout connection restored', { adapter: this.kind });
    const info: ReconnectInfo = { downSince: this.#downSince };
    for (const listener of [...this.#listeners]) listener(info);
  }

  /**
   * The connection went away (`err` undefined: closed without an error, not worth a line). Only
   * a loss of an established connection is a warning; a failed attempt while down is detail.
   */
  lost(err?: unknown): void {
    if (this.#state !== 'up') {
      if (err !== undefined)
        this.#options.logger.debug('fanout connection attempt failed', { adapter: this.kind, err });
      return;
    }
    this.#state = 'down';
    this.#downSince = (this.#options.clock ?? systemClock).now();
    if (err !== undefined) {
      this.#options.logger.warn('fanout connection lost; cross-node broadcasts pause until it is back', {
        adapter: this.kind,
        err,
      });
    }
    if (this.#options.reconnects === 'base') void this.#connectLoop(true);
  }

  /**
   * Any other failure of the driver (`during` names what it was doing). While down, every
   * attempt fails the same way: only failures while up (or starting) are warnings.
   */
  failed(err: unknown, during: string): void {
    const fields = { adapter: this.kind, during, err };
    if (this.#state === 'down') this.#options.logger.debug('fanout error', fields);
    else this.#options.logger.warn('fanout error', fields);
  }

  /** Releases the connections. Call after the server closed. */
  async close(): Promise<void> {
    this.#state = 'closed';
    this.#listeners.clear();
    await this.#loop?.stop();
    await this.#options.driver.release();
  }

  async #firstConnection(): Promise<void> {
    if (!(await this.#connectLoop(false))) throw new Error('fan-out closed before it connected');
  }

  /**
   * The one reconnection loop (a loss while it runs is its own business): true once connected,
   * false when `close()` stopped it first.
   */
  async #connectLoop(pauseFirst: boolean): Promise<boolean> {
    if (this.#loop || this.#state === 'closed') return false;
    const loop = startRetryLoop({
      attempt: () => this.#options.driver.connect(),
      backoff: this.#options.reconnect,
      timers: this.#timers,
      pauseFirst,
      onFailure: (err) => this.failed(err, 'connect'),
      onSuccess: () => {
        this.#loop = undefined;
        this.up();
      },
    });
    this.#loop = loop;
    const connected = await loop.done;
    if (this.#loop === loop) this.#loop = undefined;
    return connected;
  }

  async #abort(): Promise<void> {
    const driver = this.#options.driver;
    if (driver.abort) {
      this.#state = 'closed';
      this.#listeners.clear();
      await driver.abort();
    } else {
      await this.close();
    }
  }
}
