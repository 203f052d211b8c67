import { clusterName, type ClusterFanout } from '../cluster/cluster-fanout.js';
import { createPostgresFanout } from '../cluster/postgres-fanout.js';
import { createRedisFanout } from '../cluster/redis-fanout.js';
import type { Logger } from '../ops/logger.js';
import { importOptional, type OptionalDependency } from '../ops/optional-dependency.js';
import { PostgresStorage } from '../storage/postgres-storage.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import type { SyncStorage } from '../storage/storage.js';
import { redact, type CliOptions } from './parse-args.js';

/** The storage and cross-node fan-out that parsed CLI options name, opened and ready. */
export interface Backend {
  readonly storage: SyncStorage;
  /** Cross-node fan-out; undefined for a single SQLite node. */
  readonly cluster: ClusterFanout | undefined;
  /**
   * With `--redis`: a node-redis client of its own through which every node counts the
   * cross-socket budgets (`budgets.redis`), so a cluster of N nodes allows each budget once,
   * not N times.
   */
  readonly budgetStore?: { readonly redis: object; readonly redisKeyPrefix: string };
  /** For the `ready` log line and banners: where the data lives, passwords redacted. */
  readonly description: Readonly<Record<string, string>>;
  /** Closes the fan-out, then the storage. */
  close(): Promise<void>;
}

/**
 * Opens what `--db` / `--postgres` / `--redis` ask for: a SQLite file; or PostgreSQL (schema
 * created and migrated) with LISTEN/NOTIFY fan-out, or Redis Streams fan-out with `--redis`.
 * Shared by `syncline-server` and embedders such as the demo, so a flag never means two things.
 * Fails (closing what it opened) when the database or Redis is unreachable, and before opening
 * anything when a driver these flags need is not installed (`MissingDependencyError`, whose
 * install line names every package the flags need, not just the first one missing).
 */
export async function openBackend(opts: CliOptions, logger: Logger): Promise<Backend> {
  const pg = opts.postgres;
  if (!pg) {
    const storage = new SqliteStorage({ path: opts.db });
    return { storage, cluster: undefined, description: { db: opts.db }, close: () => storage.close() };
  }
  await preloadDrivers(opts.redis !== undefined);
  const storage = await PostgresStorage.open({
    connectionString: pg.url,
    poolSize: pg.poolSize,
    schema: pg.schema,
    // Connections dying in the background (database restart): the pool replaces them, and
    // requests meanwhile fail with storage_unavailable.
    onError: (err) => logger.warn('storage connection error', { err }),
  });
  // Keeps clusters that share a Redis apart: their streams and their budget counters.
  const prefix = `syncline:${clusterName(pg.url, pg.schema)}`;
  let cluster: ClusterFanout;
  let budgetStore: BudgetStore | undefined;
  try {
    if (opts.redis !== undefined) budgetStore = await openBudgetStore(opts.redis, logger);
    cluster =
      opts.redis !== undefined
        ? await createRedisFanout({
            url: opts.redis,
            prefix,
            logger,
          })
        : await createPostgresFanout({ connectionString: pg.url, schema: pg.schema, logger });
  } catch (err) {
    await budgetStore?.close();
    await storage.close();
    throw err;
  }
  return {
    storage,
    cluster,
    ...(budgetStore
      ? {
          budgetStore: {
            redis: budgetStore.client,
            redisKeyPrefix: `${prefix}:budget`,
          },
        }
      : {}),
    description: {
      postgres: redact(pg.url),
      schema: pg.schema,
      adapter: cluster.kind,
      ...(opts.redis !== undefined ? { redis: redact(opts.redis) } : {}),
    },
    close: async () => {
      await cluster.close();
      await budgetStore?.close();
      await storage.close();
    },
  };
}

interface BudgetStore {
  readonly client: object;
  close(): Promise<void>;
}

/**
 * A node-redis client for the budgets' counters. Commands fail at once while Redis is away
 * (`disableOfflineQueue`), so the budgets fall back to their in-memory counters instead of
 * holding a handshake; the client reconnects forever.
 */
async function openBudgetStore(url: string, logger: Logger): Promise<BudgetStore> {
  const { createClient } = await importOptional('--redis', 'redis', ['redis'], () => import('redis'));
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  // Unhandled, node-redis's `error` (each failed reconnection) would end the process.
  client.on('error', (err: unknown) => logger.debug('budget counters: Redis error', { err }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`cannot reach Redis at ${redact(url)} within 5000 ms`)),
          5000,
        );
      }),
    ]);
  } catch (err) {
    client.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    client,
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
}

/** Imports every optional driver `--postgres` (with or without `--redis`) needs, up front. */
async function preloadDrivers(redis: boolean): Promise<void> {
  const feature = redis ? '--postgres with --redis' : '--postgres';
  const needs: OptionalDependency[] = redis
    ? ['pg', 'redis', '@socket.io/redis-streams-adapter']
    : ['pg', '@socket.io/postgres-adapter'];
  await importOptional(feature, 'pg', needs, () => import('pg'));
  if (redis) {
    await importOptional(feature, 'redis', needs, () => import('redis'));
    await importOptional(
      feature,
      '@socket.io/redis-streams-adapter',
      needs,
      () => import('@socket.io/redis-streams-adapter'),
    );
  } else {
    await importOptional(
      feature,
      '@socket.io/postgres-adapter',
      needs,
      () => import('@socket.io/postgres-adapter'),
    );
  }
}
