import { parseArgs } from 'node:util';
import { isLogLevel, type LogLevel } from '../ops/logger.js';

export interface CliOptions {
  readonly port: number;
  readonly host: string;
  readonly db: string;
  readonly config: string | undefined;
  readonly logLevel: LogLevel;
  readonly help: boolean;
  /** Values of the caller's extra boolean flags (see `parseCliArgs`). */
  readonly flags: Readonly<Record<string, boolean>>;
}

export const HELP = `syncline-server — run a Syncline sync server

Usage: syncline-server [options]

Options:
  --port <n>         TCP port (default 8787; 0 picks a free one)      env SYNCLINE_PORT
  --host <addr>      address to bind (default 127.0.0.1)               env SYNCLINE_HOST
  --db <file>        SQLite database file (default ./syncline.db)      env SYNCLINE_DB
  --config <file>    ES module whose default export holds server options:
                     auth hooks, collections (strategies, validation, webhooks),
                     limits, retention, cors, metrics, changeFeed, telemetry.
                     Without it the server runs in DEVELOPMENT auth mode:
                     everyone may read and write every scope.
  --log-level <lvl>  debug | info | warn | error | silent (default info) env SYNCLINE_LOG_LEVEL
  --help             show this help

Endpoints: Socket.IO at /socket.io; GET /healthz (liveness), GET /readyz
(readiness), GET /metrics (Prometheus); with a bearer token for the auth hooks:
GET /v1/changes (change feed), POST /v1/mutations (server-side writes).
Stops gracefully on SIGTERM/SIGINT (in-flight pushes finish and are acknowledged).`;

/**
 * Parses argv and the environment; throws an Error with a readable message on bad input.
 * Programs that embed the server (the demo) add their own boolean flags with `extraFlags`.
 */
export function parseCliArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  extraFlags: readonly string[] = [],
): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(extraFlags.map((f) => [f, { type: 'boolean' as const }])),
    },
    strict: true,
    allowPositionals: false,
  });
  const portText = values.port ?? env.SYNCLINE_PORT ?? '8787';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port "${portText}"`);
  const logLevel = values['log-level'] ?? env.SYNCLINE_LOG_LEVEL ?? 'info';
  if (!isLogLevel(logLevel)) throw new Error(`invalid --log-level "${logLevel}"`);
  return {
    port,
    host: values.host ?? env.SYNCLINE_HOST ?? '127.0.0.1',
    db: values.db ?? env.SYNCLINE_DB ?? './syncline.db',
    config: values.config,
    logLevel,
    help: values.help === true,
    flags: Object.fromEntries(extraFlags.map((f) => [f, (values as Record<string, unknown>)[f] === true])),
  };
}
