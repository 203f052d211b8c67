/**
 * The RxDB peer: two RxDB databases on the memory storage (Node), each replicating its `cards`
 * collection with RxDB's websocket replication to an RxDB server process; B observes
 * `findOne(id).$`, as an app's UI would.
 */
import { randomUUID } from 'node:crypto';
import { filter, firstValueFrom } from 'rxjs';
import { createRxDatabase, type RxCollection, type RxDatabase } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { replicateWithWebsocketServer } from 'rxdb/plugins/replication-websocket';
import { card, type Card } from '../cards.js';
import type { PropagationPair } from '../pair.js';
import { startPeer, type Peer } from '../processes.js';
import { CARD_SCHEMA } from './rxdb-schema.js';
import { versionOf } from './untyped.js';

export interface RxReplica {
  readonly db: RxDatabase;
  readonly cards: RxCollection<Card>;
  /** Starts live replication; resolves once the initial replication is done. */
  replicate(): Promise<{ awaitInSync(): Promise<unknown> }>;
}

export async function rxReplica(url: string): Promise<RxReplica> {
  const db = await createRxDatabase({
    name: `r${randomUUID().replaceAll('-', '')}`,
    storage: getRxStorageMemory(),
  });
  const { cards } = await db.addCollections({ cards: { schema: CARD_SCHEMA } });
  const collection = cards as unknown as RxCollection<Card>;
  return {
    db,
    cards: collection,
    async replicate() {
      const state = await replicateWithWebsocketServer({
        collection,
        url,
        replicationIdentifier: 'bench-cards',
        live: true,
      });
      await state.awaitInitialReplication();
      return state;
    },
  };
}

export const rxdbVersions = () => ({ rxdb: versionOf('rxdb') });

export async function startRxdbServer(): Promise<{ server: Peer; url: string }> {
  const server = await startPeer('rxdb-server');
  return { server, url: `ws://127.0.0.1:${server.port}` };
}

export async function rxdbPair(): Promise<PropagationPair> {
  const { server, url } = await startRxdbServer();
  try {
    const [a, b] = await Promise.all([rxReplica(url), rxReplica(url)]);
    await Promise.all([a.replicate(), b.replicate()]);
    return {
      row: {
        name: 'peer-rxdb',
        kind: 'peer',
        label: 'RxDB upsert A → websocket replication server → B findOne().$ (memory storage)',
        durability: 'server and clients: RxDB memory storage',
        versions: rxdbVersions(),
      },
      async propagate(id, seq) {
        let armed!: () => void;
        const isArmed = new Promise<void>((r) => (armed = r));
        const seen = firstValueFrom(
          b.cards.findOne(id).$.pipe(
            filter((doc, i) => {
              if (i === 0) armed();
              return doc?.seq === seq;
            }),
          ),
        );
        await isArmed;
        const t0 = performance.now();
        await a.cards.upsert(card(id, seq));
        await seen;
        return performance.now() - t0;
      },
      async close() {
        await Promise.allSettled([a.db.close(), b.db.close()]);
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
