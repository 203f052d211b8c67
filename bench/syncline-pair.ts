/**
 * B2's Syncline contenders: two Node devices (real SyncClient, fake-indexeddb) against the real
 * server CLI; B observes through a Dexie live query, as an app's UI would. Single node on SQLite,
 * or two nodes sharing one PostgreSQL schema with A on one node and B on the other (the
 * cross-node adapter carries every change).
 */
import { card } from './cards.js';
import { timeUntilSeen, type PropagationPair } from './pair.js';
import { dropSchema, pgDurability, uniqueSchema } from './postgres.js';
import { SQLITE_DURABILITY, synclineServer, type SynclineServer } from './syncline-server.js';
import { device, until, settled } from './syncline-device.js';

async function pair(
  urls: readonly [string, string],
  row: PropagationPair['row'],
  stopServers: () => Promise<void>,
): Promise<PropagationPair> {
  const [a, b] = await Promise.all([device(urls[0]), device(urls[1])]).catch(async (err: unknown) => {
    await stopServers();
    throw err;
  });
  const close = async () => {
    await Promise.allSettled([a.close(), b.close()]);
    await stopServers();
  };
  try {
    await Promise.all([until(a, settled, 20_000, 'A live'), until(b, settled, 20_000, 'B live')]);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    row,
    propagate: (id, seq) =>
      timeUntilSeen(
        b.sync.liveQuery(() => b.db.cards.get(id)),
        seq,
        () => a.db.cards.put(card(id, seq)),
      ),
    close,
  };
}

export async function synclinePair(): Promise<PropagationPair> {
  const server = await synclineServer();
  return pair(
    [server.url, server.url],
    {
      name: 'syncline',
      kind: 'syncline',
      label: 'SyncClient A → syncline-server (SQLite) → SyncClient B live query (Node, fake-indexeddb)',
      durability: `${SQLITE_DURABILITY}; clients: fake-indexeddb (memory)`,
    },
    () => server.stop(),
  );
}

/** Two nodes on one PostgreSQL schema; fan-out through LISTEN/NOTIFY, or Redis when given. */
export async function synclineClusterPair(pgUrl: string, redis?: string): Promise<PropagationPair> {
  const schema = uniqueSchema(pgUrl);
  const durability = await pgDurability(pgUrl);
  const nodes: SynclineServer[] = [];
  const stop = async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await dropSchema(pgUrl, schema);
  };
  try {
    // One after the other: the first node creates and migrates the schema.
    for (let i = 0; i < 2; i++)
      nodes.push(await synclineServer({}, { postgres: pgUrl, schema, ...(redis ? { redis } : {}) }));
  } catch (err) {
    await stop();
    throw err;
  }
  const adapter = redis ? 'redis' : 'pg';
  return pair(
    [nodes[0]!.url, nodes[1]!.url],
    {
      name: `syncline-2nodes-${adapter}`,
      kind: 'syncline',
      label: `SyncClient A → node 1 → ${redis ? 'Redis Streams' : 'PostgreSQL LISTEN/NOTIFY'} → node 2 → SyncClient B (PostgreSQL storage)`,
      durability: `server: ${durability}; clients: fake-indexeddb (memory)`,
    },
    stop,
  );
}
