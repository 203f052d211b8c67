import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { syncError, type SyncError } from '@syncline/protocol';
import type { Logger } from '../ops/logger.js';

/** At most `points` in any fixed window of `seconds`. */
export interface RateBudget {
  readonly points: number;
  readonly seconds: number;
}

/**
 * Budgets that hold across sockets (a reconnect does not reset them), on top of each socket's
 * own token bucket (`limits.eventsPerSecond`): `false` turns one off. In development auth mode
 * only the budgets named here apply: every client there is the one principal `dev`, usually on
 * one address, so the defaults would throttle a local load test, not an attacker.
 */
export interface BudgetOptions {
  /** Connection attempts per remote address (default 600 a minute). */
  readonly connectionsPerAddress?: RateBudget | false;
  /** Accepted connections per principal, counted after authentication (default 300 a minute). */
  readonly connectionsPerPrincipal?: RateBudget | false;
  /** Events per principal over all its sockets (default 1000 a second). */
  readonly eventsPerPrincipal?: RateBudget | false;
  /**
   * The remote address is the last hop of `X-Forwarded-For` (as appended by your one trusted
   * proxy), not the TCP peer. Only behind a proxy that always sets it; default false.
   */
  readonly trustProxy?: boolean;
  /**
   * A node-redis client (v4 or later, connected): the counters are shared by every node.
   * Without it they are kept in memory per node. A Redis failure falls back to memory.
   */
  readonly redis?: object;
  /**
   * Start of the counters' Redis keys (default `syncline:budget`). Clusters that share a Redis
   * need one each, or they count against each other's budgets; `syncline-server` sets it from
   * the database and schema, as it names its fan-out streams.
   */
  readonly redisKeyPrefix?: string;
}

export const DEFAULT_BUDGETS = {
  connectionsPerAddress: { points: 600, seconds: 60 },
  connectionsPerPrincipal: { points: 300, seconds: 60 },
  eventsPerPrincipal: { points: 1000, seconds: 1 },
} as const satisfies Record<string, RateBudget>;

type BudgetName = keyof typeof DEFAULT_BUDGETS;

const REFUSALS: Record<BudgetName, string> = {
  connectionsPerAddress: 'too many connections from this address',
  connectionsPerPrincipal: 'too many connections for this user',
  eventsPerPrincipal: 'too many events per second for this user (over all its connections)',
};

/**
 * The cross-socket budgets (rate-limiter-flexible counters): connections per address and per
 * principal at the handshake, events per principal in the session gate. An exhausted budget is
 * `rate_limited` (retryable), with how long until the window resets.
 */
export class Budgets {
  readonly #limiters: Partial<Record<BudgetName, RateLimiterAbstract>> = {};
  readonly #trustProxy: boolean;

  constructor(
    options: BudgetOptions | undefined,
    private readonly logger: Logger,
    devMode = false,
  ) {
    this.#trustProxy = options?.trustProxy === true;
    for (const name of Object.keys(DEFAULT_BUDGETS) as BudgetName[]) {
      const budget = options?.[name] ?? (devMode ? false : DEFAULT_BUDGETS[name]);
      if (budget === false) continue;
      const base = {
        points: budget.points,
        duration: budget.seconds,
        keyPrefix: `${options?.redisKeyPrefix ?? 'syncline:budget'}:${name}`,
      };
      const memory = new RateLimiterMemory(base);
      this.#limiters[name] =
        options?.redis === undefined
          ? memory
          : new RateLimiterRedis({
              ...base,
              storeClient: options.redis,
              useRedisPackage: true,
              insuranceLimiter: memory,
            });
    }
  }

  /** The address a budget counts: the TCP peer, or the trusted proxy's last X-Forwarded-For hop. */
  addressOf(peer: string, headers: Readonly<Record<string, string | string[] | undefined>>): string {
    if (!this.#trustProxy) return peer;
    const forwarded = headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
      .split(',')
      .pop()
      ?.trim();
    return last !== undefined && last !== '' ? last : peer;
  }

  /** Counts a connection attempt from `address`. */
  admitAddress(address: string): Promise<SyncError | undefined> {
    return this.#take('connectionsPerAddress', address);
  }

  /** Counts an authenticated connection of `principalId`. */
  admitPrincipal(principalId: string): Promise<SyncError | undefined> {
    return this.#take('connectionsPerPrincipal', principalId);
  }

  /** Counts one event of `principalId`, whichever socket it came on. */
  admitEvent(principalId: string): Promise<SyncError | undefined> {
    return this.#take('eventsPerPrincipal', principalId);
  }

  async #take(name: BudgetName, key: string): Promise<SyncError | undefined> {
    const limiter = this.#limiters[name];
    if (!limiter) return undefined;
    try {
      await limiter.consume(key);
      return undefined;
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        const seconds = Math.ceil(err.msBeforeNext / 1000);
        return syncError('rate_limited', `${REFUSALS[name]}; try again in ${seconds} s`);
      }
      // The store failed and has no insurance: let the event through rather than refuse everyone.
      this.logger.warn('budget store failed', { budget: name, err });
      return undefined;
    }
  }
}
