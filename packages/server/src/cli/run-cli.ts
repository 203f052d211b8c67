import { SynclineConfigError } from '@syncline/protocol';
import { createSyncServer } from '../create-sync-server.js';
import { createJsonLogger } from '../ops/logger.js';
import { MissingDependencyError } from '../ops/optional-dependency.js';
import { checkSinkDrivers } from '../sinks/sinks.js';
import { loadConfig } from './load-config.js';
import { openBackend } from './open-backend.js';
import { HELP, parseCliArgs } from './parse-args.js';

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
  const sinks = [...(config.sinks ?? []), ...opts.sinks];
  // A sink whose broker driver is missing stops the start here, with the install line.
  await checkSinkDrivers(sinks);
  const backend = await openBackend(opts, logger);
  const { storage, cluster, budgetStore } = backend;
  const server = createSyncServer({
    ...config,
    ...(budgetStore ? { budgets: { ...config.budgets, ...budgetStore } } : {}),
    auth: config.auth ?? 'development',
    sinks,
    allowInsecureDevAuth: opts.insecureDevAuth,
    storage,
    logger,
    ...(cluster ? { cluster } : {}),
  });
  await server.listen(opts.port, opts.host);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    server
      .close()
      .then(() => backend.close())
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
  // Only now: whoever waits for this line may signal at once, and must get a graceful shutdown.
  logger.info('ready', {
    ...backend.description,
    url: `http://${opts.host}:${(server.httpServer.address() as { port: number }).port}`,
  });
}

/**
 * Runs the `syncline-server` binary in this process: reads `process.argv` and the environment,
 * serves until SIGTERM or SIGINT, and exits with 0 after a graceful shutdown, 1 on a failure
 * (a missing optional driver or a bad config option in one line, anything else with its
 * stack) and 2 on bad flags.
 */
export function runCli(): void {
  main().catch(exitOnFailure);
}

function exitOnFailure(err: unknown): void {
  // A driver `--postgres`/`--redis` needs is not installed, or the config has a mistake: the
  // message says what to install or names the bad option; a stack would only bury it.
  if (err instanceof MissingDependencyError || err instanceof SynclineConfigError) {
    process.stderr.write(`syncline-server: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`syncline-server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
