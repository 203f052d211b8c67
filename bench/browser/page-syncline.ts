/**
 * Page side: a Syncline client on a `cards` table, as an app sets it up. `relaxed` installs a
 * bench-only DBCore middleware below Syncline's that turns the outbox's strict transactions into
 * relaxed ones: the product always writes strict; this measures what strict costs.
 */
import { Dexie, type Middleware, type DBCore, type Table } from 'dexie';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { createSyncClient, synclineStores, type SyncClient } from '@syncline/client';
import type { BenchCard } from './records.js';
import { sleep } from './page-runtime.js';

export type CardsDb = Dexie & { cards: Table<BenchCard, string> };
export type Durability = 'strict' | 'relaxed';

/** Syncline's outbox store (its name is internal; the exported store list holds it). */
const OUTBOX = Object.keys(synclineStores).find((name) => name.includes('outbox')) ?? '_syncline_outbox';

const relaxedDurability: Middleware<DBCore> = {
  stack: 'dbcore',
  name: 'BenchRelaxedDurability',
  // Below every other layer (Dexie's own go down to -1): it sees the outbox's `strict` last.
  level: -10,
  create: (down) => ({
    ...down,
    transaction: (stores, mode, options) =>
      down.transaction(stores, mode, { ...options, durability: 'relaxed' }),
  }),
};

export interface SynclinePage {
  readonly db: CardsDb;
  readonly sync: SyncClient;
}

/** Opens `name` with a Syncline client on `scope` and waits until it is connected and live. */
export async function openSyncline(opts: {
  name: string;
  url: string;
  scope: string;
  durability: Durability;
  liveTimeoutMs?: number;
}): Promise<SynclinePage> {
  const db = new Dexie(opts.name) as CardsDb;
  db.version(1).stores({ cards: 'id', ...synclineStores });
  if (opts.durability === 'relaxed') db.use(relaxedDurability);
  const sync = createSyncClient(db, {
    url: opts.url,
    tables: { cards: { scope: opts.scope } },
    scopes: [opts.scope],
  });
  await sync.start();
  await firstValueFrom(
    sync.status$.pipe(
      filter((s) => s.connected && s.phase === 'live'),
      timeout(opts.liveTimeoutMs ?? 15_000),
    ),
  );
  return { db, sync };
}

/**
 * Resolves once the outbox is empty (every write pushed and acknowledged), polling a count so
 * it never depends on a status emission racing the write that filled the outbox.
 */
export async function outboxDrained(db: Dexie, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while ((await db.table(OUTBOX).count()) > 0) {
    if (performance.now() > until) throw new Error(`outbox not drained within ${timeoutMs} ms`);
    await sleep(1);
  }
}
