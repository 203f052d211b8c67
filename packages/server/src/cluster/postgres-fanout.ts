import { createHash } from 'node:crypto';
import type { PostgresAdapter } from '@socket.io/postgres-adapter';
import type { Logger } from '../ops/logger.js';
import { importOptional, type OptionalDependency } from '../ops/optional-dependency.js';
import { quoteIdent } from '../storage/postgres-schema.js';
import type { ClusterFanout } from './cluster-fanout.js';
import { FanoutBase } from './fanout-base.js';
import { PgNotifyBus, type BusMessage, type BusReceiver } from './pg-notify-bus.js';

export interface PostgresFanoutOptions {
  /** The database the nodes share (the storage's). */
  readonly connectionString: string;
  /** The storage's schema: its migration created `socket_io_attachments` there. */
  readonly schema: string;
  /** Connections of the adapter's own pool: one LISTENs, the rest publish (default 4). */
  readonly poolSize?: number;
  readonly logger: Logger;
  /** How long a publish waits for a connection (default 2000 ms). */
  readonly connectTimeoutMs?: number;
  /** Heartbeats between nodes, which `serverCount()`/`fetchSockets()` rely on (default 5 s / 10 s). */
  readonly heartbeatIntervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  /** How long to wait for the first LISTEN connection (default 10 000 ms). */
  readonly startTimeoutMs?: number;
  /** Delays between attempts to re-establish a lost LISTEN connection (default 100 ms doubling to 3 s). */
  readonly reconnect?: { readonly minMs: number; readonly maxMs: number };
  /** `application_name` of its connections, as `pg_stat_activity` shows them (default `syncline-fanout`). */
  readonly applicationName?: string;
}

/** PostgreSQL limits identifiers, NOTIFY channels included, to 63 bytes. */
const MAX_CHANNEL_BYTES = 63;

/**
 * The prefix of this cluster's NOTIFY channels. NOTIFY is per database, so the schema tells
 * clusters sharing a database apart; a schema too long for a channel name is hashed.
 */
export function pgChannelPrefix(schema: string): string {
  const plain = `syncline.${schema}`;
  if (Buffer.byteLength(`${plain}#/`) <= MAX_CHANNEL_BYTES) return plain;
  return `syncline.${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`;
}

const FEATURE = 'PostgreSQL fan-out (createPostgresFanout)';
const NEEDS: readonly OptionalDependency[] = ['pg', '@socket.io/postgres-adapter'];

/** `PostgresAdapter` whose uid the bus can read, to skip the node's own notifications. */
function withNodeUid(Base: typeof PostgresAdapter) {
  return class SynclinePostgresAdapter extends Base {
    get nodeUid(): string {
      return this.uid;
    }
  };
}

/**
 * Cross-node fan-out through the database the nodes already share (no extra service):
 * `@socket.io/postgres-adapter`'s adapter over LISTEN/NOTIFY, on a small pool of its own so a
 * storage pool busy with writes never delays broadcasts, and the other way round.
 *
 * Resolves once the LISTEN connection is up; rejects when it is not within `startTimeoutMs`
 * (default 10 s), so a node never starts serving without fan-out. Needs the optional peer
 * dependencies `pg` and `@socket.io/postgres-adapter`; without them, rejects with a
 * `MissingDependencyError` (`missing_dependency`) that names the `npm install` line.
 */
export async function createPostgresFanout(opts: PostgresFanoutOptions): Promise<ClusterFanout> {
  const log = opts.logger;
  const { default: pg } = await importOptional(FEATURE, 'pg', NEEDS, () => import('pg'));
  const { PostgresAdapter } = await importOptional(
    FEATURE,
    '@socket.io/postgres-adapter',
    NEEDS,
    () => import('@socket.io/postgres-adapter'),
  );
  const SynclinePostgresAdapter = withNodeUid(PostgresAdapter);
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.poolSize ?? 4,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 2000,
    keepAlive: true,
    application_name: opts.applicationName ?? 'syncline-fanout',
  });
  // Idle connections that die (database restart) report here instead of crashing the process.
  pool.on('error', (err) => log.debug('fanout pool connection lost', { err }));

  const bus = new PgNotifyBus({
    pool,
    channelPrefix: pgChannelPrefix(opts.schema),
    attachmentsTable: `${quoteIdent(opts.schema)}.socket_io_attachments`,
    onError: (err, during) => fanout.failed(err, during),
    onLost: (err) => fanout.lost(err),
  });

  const adapterOptions = {
    ...(opts.heartbeatIntervalMs !== undefined ? { heartbeatInterval: opts.heartbeatIntervalMs } : {}),
    ...(opts.heartbeatTimeoutMs !== undefined ? { heartbeatTimeout: opts.heartbeatTimeoutMs } : {}),
  };
  // The adapter only calls `publish` on its client; the bus is that client.
  const client = {
    publish: (message: BusMessage) => bus.publish(message),
  } as unknown as ConstructorParameters<typeof PostgresAdapter>[2];

  // Socket.IO calls the adapter with `new`: a function expression, not an arrow, so that works
  // (a constructor returning an object yields that object).
  const adapter = function (nsp: ConstructorParameters<typeof PostgresAdapter>[0]) {
    const instance = new SynclinePostgresAdapter(nsp, adapterOptions, client);
    const name = (nsp as { name: string }).name;
    const receiver: BusReceiver = {
      uid: instance.nodeUid,
      onMessage: (message) => instance.onMessage(message as never),
    };
    bus.add(name, receiver);
    const close = instance.close.bind(instance);
    instance.close = () => {
      bus.remove(name);
      return close();
    };
    return instance;
  };

  const fanout: FanoutBase = new FanoutBase({
    kind: 'postgres',
    logger: log,
    reconnect: { ...(opts.reconnect ?? { minMs: 100, maxMs: 3000 }), jitter: true },
    reconnects: 'base',
    driver: {
      adapter: () => adapter,
      connect: () => bus.connect(),
      isUp: () => bus.listening,
      release: async () => {
        await bus.close();
        await pool.end();
      },
    },
  });
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  await fanout.start(
    startTimeoutMs,
    `fan-out: no LISTEN connection to PostgreSQL within ${startTimeoutMs} ms`,
  );
  return fanout;
}
