import { createSyncServer } from './create-sync-server.js';
import { HELP, parseCliArgs, redact, type CliOptions } from './cli/parse-args.js';
import { loadConfig } from './cli/load-config.js';
import { clusterName, type ClusterFanout } from './cluster/cluster-fanout.js';
import { createPostgresFanout } from './cluster/postgres-fanout.js';
import { createRedisFanout } from './cluster/redis-fanout.js';
import { createJsonLogger, type Logger } from './ops/logger.js';
import { PostgresStorage } from './storage/postgres-storage.js';
import { SqliteStorage } from './storage/sqlite-storage.js';
import type { SyncStorage } from './storage/storage.js';

/** Opens the storage the options name: a SQLite file, or PostgreSQL (created and migrated). */
async function openStorage(opts: CliOptions, logger: Logger): Promise<SyncStorage> {
  if (!opts.postgres) return new SqliteStorage({ path: opts.db });
  return PostgresStorage.open({
    connectionString: opts.postgres.url,
    poolSize: opts.postgres.poolSize,
    schema: opts.postgres.schema,
    // Connections dying in the background (database restart): the pool replaces them, and
    // requests meanwhile fail with storage_unavailable.
    onError: (err) => logger.warn('storage connection error', { err }),
  });
}

/** Cross-node fan-out for PostgreSQL storage: Redis Streams with --redis, else LISTEN/NOTIFY. */
async function openFanout(opts: CliOptions, logger: Logger): Promise<ClusterFanout | undefined> {
  const pg = opts.postgres;
  if (!pg) return undefined;
  if (opts.redis !== undefined) {
    return createRedisFanout({
      url: opts.redis,
      prefix: `syncline:${clusterName(pg.url, pg.schema)}`,
      logger,
    });
  }
  return await createPostgresFanout({ connectionString: pg.url, schema: pg.schema, logger });
}

/** `syncline-server`: a server on SQLite or PostgreSQL from flags, env and an optional config module. */
async function main(): Promise<void> {
  let opts;
  try {
    opts = parseCliArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`syncline-server: ${(err as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const logger = createJsonLogger({ level: opts.logLevel });
  const config = opts.config === undefined ? {} : await loadConfig(opts.config);
  const storage = await openStorage(opts, logger);
  const cluster = await openFanout(opts, logger).catch(async (err: unknown) => {
    await storage.close();
    throw err;
  });
  const server = createSyncServer({
    ...config,
    auth: config.auth ?? 'development',
    storage,
    logger,
    ...(cluster ? { cluster } : {}),
  });
  await server.listen(opts.port, opts.host);
  logger.info('ready', {
    ...(opts.postgres
      ? { postgres: redact(opts.postgres.url), schema: opts.postgres.schema, adapter: cluster?.kind }
      : { db: opts.db }),
    ...(opts.redis !== undefined ? { redis: redact(opts.redis) } : {}),
    url: `http://${opts.host}:${(server.httpServer.address() as { port: number }).port}`,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    server
      .close()
      .then(() => cluster?.close())
      .then(() => storage.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error('shutdown failed', { err });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (err) => logger.error('unhandled rejection', { err }));
}

main().catch((err: unknown) => {
  process.stderr.write(`syncline-server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
