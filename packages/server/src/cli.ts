import { createSyncServer } from './create-sync-server.js';
import { HELP, parseCliArgs } from './cli/parse-args.js';
import { loadConfig } from './cli/load-config.js';
import { createJsonLogger } from './ops/logger.js';
import { SqliteStorage } from './storage/sqlite-storage.js';

/** `syncline-server`: SQLite-backed server from flags, env and an optional config module. */
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
  const storage = new SqliteStorage({ path: opts.db });
  const server = createSyncServer({ ...config, auth: config.auth ?? 'development', storage, logger });
  await server.listen(opts.port, opts.host);
  logger.info('ready', {
    db: opts.db,
    url: `http://${opts.host}:${(server.httpServer.address() as { port: number }).port}`,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    server
      .close()
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
