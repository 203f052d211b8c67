import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import type { ClusterFanout } from '../src/cluster/cluster-fanout.js';
import { createPostgresFanout } from '../src/cluster/postgres-fanout.js';
import { createRedisFanout } from '../src/cluster/redis-fanout.js';
import { createSyncServer, type SyncServer } from '../src/create-sync-server.js';
import type { Logger } from '../src/ops/logger.js';
import { PostgresStorage } from '../src/storage/postgres-storage.js';
import { clusterDevice, converged, mulberry32, type Device } from './helpers/cluster-devices.js';
import { dropSchema, PG_URL, query, REDIS_URL, testSchema } from './helpers/cluster-nodes.js';
import { TestClient } from './helpers/harness.js';
import { eventually } from '../../client/test/faults.js';

/** A logger that keeps what it is told, to check what a node reported. */
function recordingLogger(): Logger & { readonly entries: { level: string; msg: string }[] } {
  const entries: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      entries.push({ level, msg, ...(fields ? { fields } : {}) });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

interface Node {
  readonly server: SyncServer;
  readonly storage: PostgresStorage;
  readonly fanout: ClusterFanout;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly url: string;
  /** Connections the node accepted so far. */
  connections: number;
}

type Kind = 'postgres' | 'redis';

/** Socket.IO's cluster message type of a broadcast (socket.io-adapter's `MessageType.BROADCAST`). */
const BROADCAST = 3;

/** Two in-process nodes on one schema, fanning out through `kind`; torn down in afterAll. */
function cluster(kind: Kind) {
  const schema = testSchema();
  const nodes: Node[] = [];
  const clients: TestClient[] = [];
  const devices: Device[] = [];
  const start = async (name: string) => {
    const logger = recordingLogger();
    const storage = await PostgresStorage.open({ connectionString: PG_URL!, schema, poolSize: 3 });
    const fanout =
      kind === 'postgres'
        ? await createPostgresFanout({
            connectionString: PG_URL!,
            schema,
            logger,
            applicationName: `${schema}-${name}`,
            // A long pause before reconnecting keeps the "connection lost" window wide open.
            reconnect: { minMs: 3000, maxMs: 3000 },
          })
        : await createRedisFanout({ url: REDIS_URL!, prefix: `syncline:test:${schema}`, logger });
    const server = createSyncServer({ storage, auth: 'development', logger, cluster: fanout });
    const { url } = await server.listen(0);
    const node: Node = { server, storage, fanout, logger, url, connections: 0 };
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
    if (kind === 'redis') {
      const redis = createClient({ url: REDIS_URL! });
      await redis.connect();
      await redis.del(`syncline:test:${schema}`);
      await redis.close();
    }
  }, 30_000);
  return {
    schema,
    node: (i: number) => nodes[i]!,
    client: async (node: Node) => {
      const c = await TestClient.connect(node.url);
      clients.push(c);
      return c;
    },
    device: async (node: Node, scope: string) => {
      const d = clusterDevice([node.url], [scope], {
        name: `fanout-${schema}-${devices.length}`,
        random: mulberry32(devices.length + 1),
      });
      devices.push(d);
      await d.sync.start();
      await converged(d, scope);
      return d;
    },
  };
}

/** Makes node's adapter drop the next cross-node broadcast (its own sockets still get it). */
function dropNextCrossNodeBroadcast(server: SyncServer): { dropped(): number } {
  const adapter = server.io.of('/').adapter as unknown as {
    doPublish(message: { type: number }): Promise<string>;
  };
  const original = adapter.doPublish.bind(adapter);
  let dropped = 0;
  adapter.doPublish = (message) => {
    if (message.type === BROADCAST && dropped === 0) {
      dropped++;
      return Promise.resolve('');
    }
    return original(message);
  };
  return { dropped: () => dropped };
}

const put = (id: string, value: Record<string, unknown>) =>
  ({
    scope: 'board:x',
    collection: 'cards',
    id,
    op: 'put',
    base: 0,
    value: { id, board: 'x', ...value },
  }) as const;

function fanoutSuite(kind: Kind): void {
  const env = cluster(kind);

  it('reports the adapter in /readyz and, informationally, in /healthz', async () => {
    const ready = (await (await fetch(`${env.node(1).url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready).toMatchObject({
      status: 'ok',
      storage: { kind: 'postgres', ok: true },
      checks: { adapter: { ok: true } },
    });
    const live = (await (await fetch(`${env.node(1).url}/healthz`)).json()) as Record<string, unknown>;
    expect(live).toMatchObject({
      status: 'ok',
      adapter: { kind, ok: true },
      lastReadiness: { status: 'ok', storageOk: true },
    });
  });

  it('delivers a write on node 1 to a subscriber on node 2 live, large values included', async () => {
    const writer = await env.client(env.node(0));
    const reader = await env.client(env.node(1));
    expect((await reader.subscribe('board:x')).ok).toBe(true);
    const started = Date.now();
    await writer.write(put('live-1', { title: 'small' }));
    // Above PostgreSQL's 8000-byte NOTIFY limit: travels through the attachments table.
    await writer.write(put('live-2', { title: 'large', notes: 'x'.repeat(20_000) }));
    const small = await reader.waitForChange((m) => m.changes.some((c) => c.id === 'live-1'), 10_000);
    const large = await reader.waitForChange((m) => m.changes.some((c) => c.id === 'live-2'), 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(large.after).toBe(small.after + 1);
    expect((large.changes[0]!.value as { notes: string }).notes).toHaveLength(20_000);
  });

  it('a lost cross-node broadcast costs only latency: the next change shows the gap and the client pulls', async () => {
    const writer = await env.client(env.node(0));
    const observer = await env.client(env.node(1));
    await observer.subscribe('board:x');
    const d = await env.device(env.node(1), 'board:x');
    const connections = env.node(1).connections;
    const cut = dropNextCrossNodeBroadcast(env.node(0).server);
    await writer.write(put('lost', { title: 'its broadcast never reaches node 2' }));
    await writer.write(put('after-lost', { title: 'reveals the gap' }));
    await observer.waitForChange((m) => m.changes.some((c) => c.id === 'after-lost'));
    expect(cut.dropped()).toBe(1);
    expect(observer.changes.some((m) => m.changes.some((c) => c.id === 'lost'))).toBe(false);
    await eventually(
      async () => (await d.db.cards.get('lost')) !== undefined,
      'the client never pulled the lost change',
    );
    await converged(d, 'board:x');
    expect(env.node(1).connections).toBe(connections); // caught up on the same connection
  });

  if (kind === 'postgres') {
    it('a lost LISTEN connection makes the node unready, and once back it re-announces scope heads', async () => {
      const node2 = env.node(1);
      const writer = await env.client(env.node(0));
      const d = await env.device(node2, 'board:x');
      const connections = node2.connections;
      const killed = await query<{ ok: boolean }>(
        PG_URL!,
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [`${env.schema}-node2`],
      );
      expect(killed.length).toBeGreaterThan(0);
      await eventually(() => !node2.fanout.ready(), 'node 2 never noticed its lost LISTEN connection');
      const ready = await fetch(`${node2.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { adapter: { ok: false } } });

      // Committed while node 2 cannot hear it: its broadcast to node 2 is lost for good.
      await writer.write(put('while-deaf', { title: 'missed by node 2' }));
      expect(node2.fanout.ready()).toBe(false);
      await eventually(() => node2.fanout.ready(), 'node 2 never re-established LISTEN', 15_000);
      // No further write in the scope and no reconnect: only the re-announced head can tell it.
      await eventually(
        async () => (await d.db.cards.get('while-deaf')) !== undefined,
        'no catch-up after reconnect',
      );
      expect(node2.connections).toBe(connections);
      expect(
        node2.logger.entries.some((e) => e.msg === 're-announced scope heads after fan-out reconnect'),
      ).toBe(true);
      expect((await fetch(`${node2.url}/readyz`)).status).toBe(200);
    });
  }
}

describe.skipIf(!PG_URL)('cross-node fan-out through PostgreSQL LISTEN/NOTIFY', () =>
  fanoutSuite('postgres'),
);
describe.skipIf(!PG_URL || !REDIS_URL)('cross-node fan-out through Redis Streams', () =>
  fanoutSuite('redis'),
);
