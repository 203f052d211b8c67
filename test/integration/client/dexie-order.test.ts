import { afterEach, describe, expect, it } from 'vitest';
// helpers first: it installs fake-indexeddb before Dexie loads.
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';
import { until, settled } from '@syncline/test-support/devices';
import { Dexie } from 'dexie';
import type { JsonObject } from '@syncline/protocol';
import {
  createSyncClient,
  ManualNetwork,
  memoryElection,
  synclineStores,
  type SyncClient,
} from '@syncline/client';
import { SYNCLINE_TABLES, type OutboxEntry } from '../../../packages/client/src/store/schema.js';
import { queueMismatches } from '../helpers/queue-invariants.js';
import { ORDER_CASES, ORDER_STORES, type OrderCase, type OrderDb } from '../helpers/dexie-order-cases.js';

// A server per case: every case writes the same ids on the same board.
let server: TestServer | undefined;
let n = 0;
const name = (side: string) => `order-${side}-${process.pid}-${++n}`;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function plainDb(): OrderDb {
  const db = new Dexie(name('plain')) as OrderDb;
  db.version(1).stores(ORDER_STORES);
  return db;
}

function synclineDb(scope = (r: JsonObject) => `board:${r['board'] as string}`): {
  db: OrderDb;
  sync: SyncClient;
  network: ManualNetwork;
} {
  if (!server) throw new Error('no server');
  const db = new Dexie(name('syncline')) as OrderDb;
  db.version(1).stores({ ...ORDER_STORES, ...synclineStores });
  const network = new ManualNetwork(false);
  const sync = createSyncClient(db, {
    url: server.url,
    tables: { cards: { scope }, notes: { scope } },
    scopes: ['board:1'],
    network,
    election: memoryElection(),
    backoff: { baseMs: 20, capMs: 200 },
    requestTimeoutMs: 5_000,
  });
  return { db, sync, network };
}

async function runCase(db: OrderDb, c: OrderCase): Promise<unknown> {
  if (c.seed) await db.cards.bulkPut([...c.seed]);
  return c.run(db);
}

describe('plain Dexie keeps behaving like Dexie with Syncline attached (fake-indexeddb)', () => {
  for (const c of ORDER_CASES) {
    it(c.name, async () => {
      server = await startServer();
      const plain = plainDb();
      const withSyncline = synclineDb();
      try {
        await withSyncline.sync.start();
        expect(await runCase(plain, c)).toEqual(c.expected);
        expect(await runCase(withSyncline.db, c)).toEqual(c.expected);
        const contents = async (db: OrderDb) => [
          await db.cards.orderBy('id').toArray(),
          await db.notes.orderBy('id').toArray(),
        ];
        expect(await contents(withSyncline.db)).toEqual(await contents(plain));
        expect(await queueMismatches(withSyncline.db)).toEqual([]);
        // What was queued is what the app wrote: the server ends up with the same records.
        withSyncline.network.set(true);
        await until(withSyncline.sync, settled);
        const [local, remote] = await Promise.all([
          withSyncline.sync.localHash('board:1'),
          withSyncline.sync.serverHash('board:1'),
        ]);
        expect(remote.hash).toBe(local.hash);
        expect(await contents(withSyncline.db)).toEqual(await contents(plain));
      } finally {
        await withSyncline.sync.close();
        plain.close();
      }
    });
  }
});

describe('a write that cannot be queued once it is placed', () => {
  it('aborts its transaction even when the app catches the error: nothing is written or queued', async () => {
    server = await startServer();
    const { db, sync } = synclineDb((r) => {
      if (r['board'] === 'nowhere') throw new Error('no scope for this board');
      return `board:${r['board'] as string}`;
    });
    try {
      await sync.start();
      let caught: unknown;
      const txn = db.transaction('rw', db.cards, db.notes, async () => {
        await db.cards.put({ id: 'ok', board: '1', title: 'fine' });
        // The scope is only known once the record's meta is read, after the put was placed.
        await db.cards.put({ id: 'x', board: 'nowhere', title: 'no scope' }).catch((e: unknown) => {
          caught = e;
        });
      });
      await expect(txn).rejects.toThrow();
      expect(caught).toMatchObject({ message: 'no scope for this board' });
      expect(await db.cards.toArray()).toEqual([]);
      expect(await db.table(SYNCLINE_TABLES.outbox).toArray()).toEqual([]);
      // The next write queues normally, from mid 1.
      await db.cards.put({ id: 'ok', board: '1', title: 'fine' });
      expect((await db.table<OutboxEntry>(SYNCLINE_TABLES.outbox).toArray()).map((e) => e.mid)).toEqual([1]);
    } finally {
      await sync.close();
    }
  });
});
