import { randomUUID } from 'node:crypto';
import type { Logger } from '../ops/logger.js';
import { importOptional, type OptionalDependency } from '../ops/optional-dependency.js';
import type { ClusterFanout } from './cluster-fanout.js';

export interface RedisFanoutOptions {
  /** `redis://host:port`. */
  readonly url: string;
  /** Stream and channel names start with it; it keeps clusters sharing a Redis apart. */
  readonly prefix: string;
  readonly logger: Logger;
  /** Give up the first connection after this long (default 5000 ms); later losses reconnect forever. */
  readonly connectTimeoutMs?: number;
}

const FEATURE = 'Redis fan-out (createRedisFanout)';
const NEEDS: readonly OptionalDependency[] = ['redis', '@socket.io/redis-streams-adapter'];

/**
 * Cross-node fan-out through Redis Streams (`@socket.io/redis-streams-adapter`, node-redis
 * client). Broadcasts are appended to a stream that every node reads from its last offset, so a
 * reconnecting reader resumes where it was.
 *
 * While Redis is down, publishing fails at once instead of queueing (the adapter delivers a
 * broadcast to the node's own sockets only after publishing it, so a queue would stall local
 * fan-out for the whole outage, and grow without bound): this node's clients keep getting live
 * changes, other nodes' clients catch up when the connection is back (`onReconnect`). The
 * reader and subscriber connections keep their queue: they wait for Redis rather than spin.
 *
 * Resolves once connected; rejects when Redis cannot be reached at start, so a misconfigured
 * node fails fast instead of serving without fan-out. Needs the optional peer dependencies
 * `redis` and `@socket.io/redis-streams-adapter`; without them, rejects with a
 * `MissingDependencyError` (`missing_dependency`) that names the `npm install` line.
 */
export async function createRedisFanout(opts: RedisFanoutOptions): Promise<ClusterFanout> {
  const log = opts.logger;
  const { createClient } = await importOptional(FEATURE, 'redis', NEEDS, () => import('redis'));
  const { createAdapter } = await importOptional(
    FEATURE,
    '@socket.io/redis-streams-adapter',
    NEEDS,
    () => import('@socket.io/redis-streams-adapter'),
  );
  // The adapter's reader and subscriber connections are duplicates of this client: the name
  // lets `CLIENT LIST` show when the reader is in place.
  const name = `syncline-fanout-${randomUUID().slice(0, 8)}`;
  const client = createClient({
    url: opts.url,
    name,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      // Doubling from 50 ms to 2 s, with jitter; never gives up once it has been connected.
      reconnectStrategy: (retries: number) => Math.min(2000, 50 * 2 ** retries) * (0.5 + Math.random() / 2),
    },
  });
  // The adapter makes its reader and subscriber with `duplicate()`: those must queue, or a
  // blocking XREAD loop would spin on instant failures while Redis is down.
  const duplicate = client.duplicate.bind(client);
  Object.assign(client, {
    duplicate: (overrides?: Parameters<typeof duplicate>[0]) =>
      duplicate({ ...overrides, disableOfflineQueue: false }),
  });
  const listeners = new Set<() => void>();
  let everReady = false;
  let connected = false;
  // node-redis emits `error` on every failed reconnection attempt; unhandled it would crash.
  client.on('error', (err: unknown) => {
    if (connected) log.warn('fanout connection lost; reconnecting', { adapter: 'redis', err });
    else log.debug('fanout connection attempt failed', { adapter: 'redis', err });
    connected = false;
  });
  client.on('end', () => {
    connected = false;
  });
  client.on('ready', () => {
    connected = true;
    if (!everReady) {
      everReady = true;
      return;
    }
    log.info('fanout connection restored', { adapter: 'redis' });
    for (const l of [...listeners]) l();
  });

  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`cannot reach Redis at ${opts.url} within ${connectTimeoutMs} ms`)),
          connectTimeoutMs,
        );
      }),
    ]);
  } catch (err) {
    // Stops the retries of the first connection too.
    client.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const adapter = createAdapter(client, { streamName: opts.prefix, channelPrefix: opts.prefix });
  try {
    await untilReading(client, name, connectTimeoutMs, log);
  } catch (err) {
    client.destroy();
    throw err;
  }

  return {
    kind: 'redis',
    adapter,
    ready: () => client.isReady,
    onReconnect: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => {
      listeners.clear();
      if (client.isOpen) await client.close();
    },
  };
}

/**
 * Waits until the adapter's stream reader is blocked in XREAD. It reads from `$` (entries added
 * after its first XREAD), so a broadcast appended before then would never reach this node: a node
 * must not take traffic until the reader is in place. Without permission for `CLIENT LIST`
 * (managed Redis), it goes on after a warning.
 */
async function untilReading(
  client: { sendCommand(args: string[]): Promise<unknown> },
  name: string,
  timeoutMs: number,
  log: Logger,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let list: string;
    try {
      list = String(await client.sendCommand(['CLIENT', 'LIST']));
    } catch (err) {
      log.warn('cannot see whether the Redis stream reader is in place (CLIENT LIST refused)', { err });
      return;
    }
    if (list.split('\n').some((l) => l.includes(`name=${name} `) && l.includes(' cmd=xread'))) return;
    if (Date.now() > deadline)
      throw new Error(`the Redis stream reader did not start within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
