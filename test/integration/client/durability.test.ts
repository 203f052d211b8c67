import { afterEach, describe, expect, it } from 'vitest';
// helpers first: it installs fake-indexeddb before Dexie loads.
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';
import { until, settled, type Card } from '@syncline/test-support/devices';
import { Dexie, type DexieOptions, type Table } from 'dexie';
import { filter, firstValueFrom } from 'rxjs';
import {
  createSyncClient,
  ManualNetwork,
  memoryElection,
  synclineStores,
  type SyncClient,
} from '@syncline/client';

/** One read-write IndexedDB transaction: its durability and the writes placed on it. */
interface TxLog {
  readonly db: string;
  readonly durability: string;
  readonly writes: string[];
}

const log: TxLog[] = [];
const byTx = new WeakMap<IDBTransaction, TxLog>();

// fake-indexeddb's IDBTransaction carries the durability it was opened with, like Chromium's.
// eslint-disable-next-line @typescript-eslint/unbound-method
const transaction = IDBDatabase.prototype.transaction;
IDBDatabase.prototype.transaction = function (
  this: IDBDatabase,
  ...args: Parameters<IDBDatabase['transaction']>
) {
  const tx = transaction.apply(this, args);
  if (tx.mode === 'readwrite') {
    const entry = { db: this.name, durability: tx.durability, writes: [] };
    log.push(entry);
    byTx.set(tx, entry);
  }
  return tx;
};
for (const op of ['add', 'put', 'delete'] as const) {
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = IDBObjectStore.prototype[op] as (...a: unknown[]) => IDBRequest;
  (IDBObjectStore.prototype as unknown as Record<string, unknown>)[op] = function (
    this: IDBObjectStore,
    ...a: unknown[]
  ) {
    byTx.get(this.transaction)?.writes.push(`${op} ${this.name}`);
    return original.apply(this, a);
  };
}

let server: TestServer | undefined;
const clients: SyncClient[] = [];
let n = 0;

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.stop();
  server = undefined;
});

type CardsDb = Dexie & { cards: Table<Card, string> };

function device(url: string, dexie: DexieOptions = {}, setup: (db: Dexie) => void = () => {}) {
  const db = new Dexie(`durability-${process.pid}-${++n}`, dexie) as CardsDb;
  db.version(1).stores({ cards: 'id, board', ...synclineStores });
  setup(db);
  const sync = createSyncClient(db, {
    url,
    tables: { cards: { scope: (c) => `board:${c['board'] as string}` } },
    scopes: ['board:1'],
    network: new ManualNetwork(true),
    election: memoryElection(),
    backoff: { baseMs: 20, capMs: 200 },
  });
  clients.push(sync);
  return { db, sync };
}

/** An app middleware above Syncline's that asks for relaxed read-write transactions. */
function appRelaxedMiddleware(db: Dexie): void {
  db.use({
    stack: 'dbcore',
    name: 'AppRelaxed',
    level: 10,
    create: (down) => ({
      ...down,
      transaction: (stores, mode, options) =>
        down.transaction(stores, mode, { ...options, durability: 'relaxed' }),
    }),
  });
}

const CHOICES = [
  { app: 'nothing (Dexie default)', dexie: {}, setup: undefined, local: 'strict' },
  {
    app: "chromeTransactionDurability: 'relaxed'",
    dexie: { chromeTransactionDurability: 'relaxed' },
    local: 'relaxed',
  },
  {
    app: "chromeTransactionDurability: 'strict'",
    dexie: { chromeTransactionDurability: 'strict' },
    local: 'strict',
  },
  {
    app: "chromeTransactionDurability: 'default'",
    dexie: { chromeTransactionDurability: 'default' },
    local: 'strict',
  },
  {
    app: "'relaxed' from a DBCore middleware above Syncline's",
    dexie: {},
    setup: appRelaxedMiddleware,
    local: 'relaxed',
  },
] as const;

describe('durability of read-write transactions over synced tables', () => {
  for (const choice of CHOICES) {
    it(`the app asks for ${choice.app}: its writes are ${choice.local}; Syncline's own keep theirs`, async () => {
      server = await startServer();
      const other = device(server.url);
      await other.sync.start();
      await other.db.cards.put({ id: 'theirs', board: '1', title: 'from the other device' });
      await until(other.sync, settled);

      const me = device(server.url, choice.dexie, 'setup' in choice ? choice.setup : undefined);
      await me.sync.start();
      await until(me.sync, (s) => settled(s) && s.initialSync.done);
      await me.db.cards.put({ id: 'mine', board: '1', title: 'a plain put' });
      await me.db.transaction('rw', me.db.cards, async () => {
        await me.db.cards.put({ id: 'mine 2', board: '1', title: 'in a transaction' });
        await me.db.cards.update('mine', { title: 'updated' });
      });
      await until(me.sync, settled);
      // Written from the other device while this one is live: a live change.
      await other.db.cards.put({ id: 'theirs 2', board: '1', title: 'live' });
      await firstValueFrom(
        me.sync.liveQuery(() => me.db.cards.get('theirs 2')).pipe(filter((c) => c !== undefined)),
      );

      const mine = log.filter((t) => t.db === me.db.name);
      const queued = mine.filter((t) => t.writes.includes('add _syncline_outbox'));
      const pushResults = mine.filter((t) => t.writes.includes('delete _syncline_outbox'));
      const serverState = mine.filter(
        (t) =>
          t.writes.includes('put _syncline_scopes') && !t.writes.some((w) => w.endsWith(' _syncline_outbox')),
      );
      expect(queued.length).toBe(2);
      expect(pushResults.length).toBeGreaterThan(0);
      expect(serverState.length).toBeGreaterThan(0);
      // Each app write and its outbox entry are in one transaction: they commit or vanish together.
      for (const t of queued) expect(t.writes).toContain('put cards');
      expect(queued.map((t) => t.durability)).toEqual([choice.local, choice.local]);
      expect(new Set(pushResults.map((t) => t.durability))).toEqual(new Set(['strict']));
      expect(new Set(serverState.map((t) => t.durability))).toEqual(new Set(['relaxed']));
    });
  }
});
