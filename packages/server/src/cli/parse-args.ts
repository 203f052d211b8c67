import { parseArgs } from 'node:util';
import { isLogLevel, type LogLevel } from '../ops/logger.js';
import type { SinkConfig } from '../sinks/sink-config.js';

/** PostgreSQL storage settings (from `--postgres` or `SYNCLINE_PG_URL`). */
export interface PostgresCliOptions {
  readonly url: string;
  readonly poolSize: number;
  readonly schema: string;
}

/** The parsed flags and environment of `syncline-server` (see `HELP`). */
export interface CliOptions {
  readonly port: number;
  readonly host: string;
  /** The SQLite file; unused when `postgres` is set. */
  readonly db: string;
  /** PostgreSQL storage instead of SQLite; several nodes on one database form a cluster. */
  readonly postgres: PostgresCliOptions | undefined;
  /** Redis for cross-node fan-out (PostgreSQL storage only); otherwise PostgreSQL's LISTEN/NOTIFY. */
  readonly redis: string | undefined;
  readonly config: string | undefined;
  /** Sinks from `--sink-rabbitmq` / `--sink-nats`, added to the config module's. */
  readonly sinks: readonly SinkConfig[];
  /** `--insecure-dev-auth`: development auth may listen on a non-loopback address. */
  readonly insecureDevAuth: boolean;
  readonly logLevel: LogLevel;
  readonly help: boolean;
  /** Values of the caller's extra boolean flags (see `parseCliArgs`). */
  readonly flags: Readonly<Record<string, boolean>>;
}

/** The `--help` text: every flag and the environment variables it reads. */
export const HELP = `syncline-server — run a Syncline sync server

Usage: syncline-server [options]

Options:
  --port <n>         TCP port (default 8787; 0 picks a free one)      env SYNCLINE_PORT
  --host <addr>      address to bind (default 127.0.0.1)               env SYNCLINE_HOST
  --db <file>        SQLite database file (default ./syncline.db)      env SYNCLINE_DB
  --postgres <url>   PostgreSQL storage instead of SQLite, e.g.        env SYNCLINE_PG_URL
                     postgres://user:pass@host:5432/db. Nodes sharing it
                     form a cluster: broadcasts reach every node's clients
                     through PostgreSQL LISTEN/NOTIFY (or Redis, below).
                     An explicit --db wins over SYNCLINE_PG_URL.
  --pg-pool-size <n> connections per node (default 10)                 env SYNCLINE_PG_POOL_SIZE
  --pg-schema <name> schema of Syncline's tables (default syncline),  env SYNCLINE_PG_SCHEMA
                     created and migrated on start
  --redis <url>      fan out through Redis Streams instead of          env SYNCLINE_REDIS_URL
                     PostgreSQL, e.g. redis://host:6379 (PostgreSQL
                     storage only; the env var is ignored with SQLite)
  --config <file>    ES module whose default export holds server options:
                     auth hooks, collections (strategies, validation, webhooks),
                     limits, retention, cors, metrics, changeFeed, telemetry.
                     Without it the server runs in DEVELOPMENT auth mode:
                     everyone may read and write every scope, and the server
                     only listens on a loopback address (127.0.0.1, ::1).
  --sink-rabbitmq <url>  publish every change to RabbitMQ (docs/sinks.md): env SYNCLINE_SINK_RABBITMQ
                     sink 'rabbitmq', topic exchange --sink-rabbitmq-exchange
                     (default syncline.changes); needs npm package amqplib
  --sink-nats <url>  publish every change to NATS JetStream: sink 'nats', env SYNCLINE_SINK_NATS
                     stream --sink-nats-stream (default SYNCLINE), subjects
                     syncline.changes.<scope>.<collection>; needs npm package nats
                     (transforms and other options: the config module's sinks)
  --insecure-dev-auth  INSECURE: allow development auth on any --host
                     (e.g. 0.0.0.0): everyone who reaches the port may read
                     and write every scope. Trusted networks only.
  --log-level <lvl>  debug | info | warn | error | silent (default info) env SYNCLINE_LOG_LEVEL
  --help             show this help

Endpoints: Socket.IO at /socket.io; GET /healthz (liveness), GET /readyz
(readiness: storage reachable, fan-out connected; 503 otherwise, and pushes are
refused with the retryable storage_unavailable while the database is down),
GET /metrics (Prometheus); with a bearer token for the auth hooks:
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
      postgres: { type: 'string' },
      'pg-pool-size': { type: 'string' },
      'pg-schema': { type: 'string' },
      redis: { type: 'string' },
      config: { type: 'string' },
      'insecure-dev-auth': { type: 'boolean' },
      'sink-rabbitmq': { type: 'string' },
      'sink-rabbitmq-exchange': { type: 'string' },
      'sink-nats': { type: 'string' },
      'sink-nats-stream': { type: 'string' },
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
  const postgres = postgresOptions(values, env);
  const redis = values.redis ?? (postgres ? envValue(env, 'SYNCLINE_REDIS_URL') : undefined);
  if (redis !== undefined && !postgres) {
    throw new Error('--redis needs --postgres: the nodes of a cluster share one PostgreSQL');
  }
  if (redis !== undefined && !/^rediss?:\/\//.test(redis)) throw new Error(`invalid --redis "${redis}"`);
  return {
    port,
    host: values.host ?? env.SYNCLINE_HOST ?? '127.0.0.1',
    db: values.db ?? env.SYNCLINE_DB ?? './syncline.db',
    postgres,
    redis,
    config: values.config,
    sinks: cliSinks(values, env),
    insecureDevAuth: values['insecure-dev-auth'] === true,
    logLevel,
    help: values.help === true,
    flags: Object.fromEntries(extraFlags.map((f) => [f, (values as Record<string, unknown>)[f] === true])),
  };
}

/** The sinks the flags ask for; their options are checked with the rest at `createSyncServer`. */
function cliSinks(
  values: {
    'sink-rabbitmq'?: string;
    'sink-rabbitmq-exchange'?: string;
    'sink-nats'?: string;
    'sink-nats-stream'?: string;
  },
  env: NodeJS.ProcessEnv,
): SinkConfig[] {
  const sinks: SinkConfig[] = [];
  const rabbit = values['sink-rabbitmq'] ?? envValue(env, 'SYNCLINE_SINK_RABBITMQ');
  const nats = values['sink-nats'] ?? envValue(env, 'SYNCLINE_SINK_NATS');
  if (values['sink-rabbitmq-exchange'] !== undefined && rabbit === undefined) {
    throw new Error('--sink-rabbitmq-exchange needs --sink-rabbitmq <url>');
  }
  if (values['sink-nats-stream'] !== undefined && nats === undefined) {
    throw new Error('--sink-nats-stream needs --sink-nats <url>');
  }
  if (rabbit !== undefined) {
    const exchange = values['sink-rabbitmq-exchange'] ?? 'syncline.changes';
    sinks.push({ name: 'rabbitmq', kind: 'rabbitmq', url: rabbit, exchange });
  }
  if (nats !== undefined) {
    const stream = values['sink-nats-stream'] ?? 'SYNCLINE';
    sinks.push({ name: 'nats', kind: 'nats', servers: nats, stream, subjectPrefix: 'syncline.changes' });
  }
  return sinks;
}

/** An environment variable, with the empty string meaning unset (as `VAR= cmd` does). */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Which storage: an explicit `--db` or `--postgres` flag decides (both is an error); without
 * either, `SYNCLINE_PG_URL` selects PostgreSQL, refused when `SYNCLINE_DB` is set too.
 */
function postgresOptions(
  values: { db?: string; postgres?: string; 'pg-pool-size'?: string; 'pg-schema'?: string },
  env: NodeJS.ProcessEnv,
): PostgresCliOptions | undefined {
  if (values.db !== undefined && values.postgres !== undefined) {
    throw new Error('--db and --postgres are two different storages: choose one');
  }
  const fromEnv = values.db === undefined ? envValue(env, 'SYNCLINE_PG_URL') : undefined;
  if (values.postgres === undefined && fromEnv !== undefined && envValue(env, 'SYNCLINE_DB') !== undefined) {
    throw new Error(
      'SYNCLINE_DB and SYNCLINE_PG_URL are both set: choose one storage (or pass --db/--postgres)',
    );
  }
  const url = values.postgres ?? fromEnv;
  if (url === undefined) {
    if (values['pg-pool-size'] !== undefined || values['pg-schema'] !== undefined) {
      throw new Error('--pg-pool-size and --pg-schema need --postgres');
    }
    return undefined;
  }
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`invalid --postgres "${redact(url)}"`);
  const sizeText = values['pg-pool-size'] ?? envValue(env, 'SYNCLINE_PG_POOL_SIZE') ?? '10';
  const poolSize = Number(sizeText);
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw new Error(`invalid --pg-pool-size "${sizeText}"`);
  }
  const schema = values['pg-schema'] ?? envValue(env, 'SYNCLINE_PG_SCHEMA') ?? 'syncline';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid --pg-schema "${schema}"`);
  return { url, poolSize, schema };
}

/** A connection URL without its password, for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable url>';
  }
}
