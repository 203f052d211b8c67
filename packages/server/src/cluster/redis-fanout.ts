import { randomUUID } from 'node:crypto';
import type { Logger } from '../ops/logger.js';
import { importOptional, type OptionalDependency } from '../ops/optional-dependency.js';
import { backoffDelay, type Backoff } from './backoff.js';
import type { ClusterFanout } from './cluster-fanout.js';
import { FanoutBase } from './fanout-base.js';

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

/** Reconnection delays of every connection: doubling from 50 ms to 2 s, with jitter. */
const RECONNECT: Backoff = { minMs: 50, maxMs: 2000, jitter: true };

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
      // Never gives up once it has been connected.
      reconnectStrategy: (retries: number) => backoffDelay(RECONNECT, retries),
    },
  });
  // The adapter makes its reader and subscriber with `duplicate()`: those must queue, or a
  // blocking XREAD loop would spin on instant failures while Redis is down.
  const duplicate = client.duplicate.bind(client);
  Object.assign(client, {
    duplicate: (overrides?: Parameters<typeof duplicate>[0]) =>
      duplicate({ ...overrides, disableOfflineQueue: false }),
  });
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  let adapter: ReturnType<typeof createAdapter> | undefined;
  // Whether the adapter's stream reader is in XREAD again since the last loss. A reader that had
  // read nothing yet resumes from `$`, so a broadcast appended before it is back would be lost:
  // the node is not up (nor catches up) until it reads.
  let reading = false;
  let readerWait = 0;
  const fanout = new FanoutBase({
    kind: 'redis',
    logger: log,
    reconnect: RECONNECT,
    reconnects: 'driver',
    driver: {
      adapter: () => {
        // Made once connected (`afterConnect`), before `start` resolves.
        if (!adapter) throw new Error('Redis fan-out used before it started');
        return adapter;
      },
      connect: async () => {
        await client.connect();
      },
      isUp: () => client.isReady && reading,
      afterConnect: async () => {
        adapter = createAdapter(client, { streamName: opts.prefix, channelPrefix: opts.prefix });
        await untilReading(client, name, connectTimeoutMs, log);
        reading = true;
      },
      // Stops the retries of the first connection too.
      abort: () => client.destroy(),
      release: async () => {
        if (client.isOpen) await client.close();
      },
    },
  });
  // node-redis emits `error` on every failed reconnection attempt; unhandled it would crash.
  const lost = (err?: unknown) => {
    reading = false;
    readerWait++;
    fanout.lost(err);
  };
  client.on('error', (err: unknown) => lost(err));
  client.on('end', () => lost());
  client.on('ready', () => {
    // The first connection: `start` waits for the reader (`afterConnect`).
    if (fanout.state === 'starting') return fanout.up();
    const wait = ++readerWait;
    void (async () => {
      for (;;) {
        try {
          await untilReading(client, name, connectTimeoutMs, log);
          break;
        } catch (err) {
          if (wait !== readerWait) return;
          fanout.failed(err, 'waiting for the stream reader');
        }
      }
      if (wait !== readerWait) return; // lost again meanwhile
      reading = true;
      fanout.up();
    })();
  });

  await fanout.start(connectTimeoutMs, `cannot reach Redis at ${opts.url} within ${connectTimeoutMs} ms`);
  return fanout;
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
