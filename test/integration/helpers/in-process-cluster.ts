import { afterAll, beforeAll } from 'vitest';
import {
  createPostgresFanout,
  createRedisFanout,
  createSyncServer,
  PostgresStorage,
  type ClusterFanout,
  type Logger,
  type SyncServer,
} from '@syncline/server';
import { mulberry32 } from '@syncline/test-support';
import { deleteRedisKey, dropSchema, PG_URL, testSchema } from '@syncline/test-support/databases';
import { TestClient } from '@syncline/test-support/server';
import { clusterDevice } from './cluster-devices.js';
import { converged, type Device } from '@syncline/test-support/devices';

/** A logger that keeps what it is told, to check what a node reported. */
export function recordingLogger(): Logger & { readonly entries: { level: string; msg: string }[] } {
  const entries: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      entries.push({ level, msg, ...(fields ? { fields } : {}) });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface InProcessNode {
  readonly server: SyncServer;
  readonly storage: PostgresStorage;
  readonly fanout: ClusterFanout;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly url: string;
  /** Connections the node accepted so far. */
  connections: number;
}

/** Fan-out through PostgreSQL, or through the Redis at this URL. */
export type FanoutChoice =
  { readonly kind: 'postgres' } | { readonly kind: 'redis'; readonly url: () => string };

/**
 * Two Syncline nodes in this process on one schema of the shared PostgreSQL (`SYNCLINE_PG_URL`),
 * fanning out through `fanout`; started in beforeAll, torn down (with their clients, schema and
 * Redis stream) in afterAll. Call at describe level.
 */
export function inProcessCluster(fanout: FanoutChoice) {
  const schema = testSchema();
  const prefix = `syncline:test:${schema}`;
  const nodes: InProcessNode[] = [];
  const clients: TestClient[] = [];
  const devices: Device[] = [];
  const start = async (name: string) => {
    const logger = recordingLogger();
    const storage = await PostgresStorage.open({ connectionString: PG_URL!, schema, poolSize: 3 });
    const cluster =
      fanout.kind === 'postgres'
        ? await createPostgresFanout({
            connectionString: PG_URL!,
            schema,
            logger,
            applicationName: `${schema}-${name}`,
            // A long pause before reconnecting keeps the "connection lost" window wide open.
            reconnect: { minMs: 3000, maxMs: 3000 },
          })
        : await createRedisFanout({ url: fanout.url(), prefix, logger });
    const server = createSyncServer({ storage, auth: 'development', logger, cluster });
    const { url } = await server.listen(0);
    const node: InProcessNode = { server, storage, fanout: cluster, logger, url, connections: 0 };
    server.io.on('connection', () => node.connections++);
    nodes.push(node);
    return node;
  };
  beforeAll(async () => {
    await start('node1');
    await start('node2');
  }, 30_000);
  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.allSettled(devices.splice(0).map((d) => d.sync.close()));
    for (const n of nodes.splice(0)) {
      await n.server.close();
      await n.fanout.close();
      await n.storage.close();
    }
    await dropSchema(PG_URL!, schema);
    if (fanout.kind === 'redis') await deleteRedisKey(fanout.url(), prefix);
  }, 30_000);
  return {
    schema,
    node: (i: number) => nodes[i]!,
    /** A raw protocol client connected to `node`. */
    client: async (node: InProcessNode) => {
      const c = await TestClient.connect(node.url);
      clients.push(c);
      return c;
    },
    /** A started `SyncClient` device on `node` only, synced with `scope`. */
    device: async (node: InProcessNode, scope: string) => {
      const d = clusterDevice([node.url], [scope], {
        name: `in-process-${schema}-${devices.length}`,
        random: mulberry32(devices.length + 1),
      });
      devices.push(d);
      await d.sync.start();
      await converged(d, scope);
      return d;
    },
  };
}
