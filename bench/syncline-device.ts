/**
 * A Syncline client as a Node process runs it: its own database in fake-indexeddb (never
 * presented as a browser number), the real `SyncClient` with outbox middleware and engine.
 */
// The real client's sources name DOM types; the root tests program (which type-checks bench) has
// no DOM lib otherwise.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="dom.asynciterable" />
import 'fake-indexeddb/auto';
import { Dexie, type Table } from 'dexie';
import { filter, firstValueFrom } from 'rxjs';
import {
  createSyncClient,
  ManualNetwork,
  memoryElection,
  synclineStores,
  type SyncClient,
  type SyncStatus,
} from '@syncline/client';
import { SCOPE, within, type Card } from './cards.js';

export interface Device {
  readonly db: Dexie & { cards: Table<Card, string> };
  readonly sync: SyncClient;
  readonly network: ManualNetwork;
  close(): Promise<void>;
}

/** `cards` (default strategy) and one collection per strategy B7 measures. */
export const COLLECTIONS = ['cards', 'merge', 'lww', 'manual'] as const;

let counter = 0;

/** Creates and starts a device; with `online: false` it queues writes until `network.set(true)`. */
export async function device(
  url: string,
  opts: { online?: boolean; requestTimeoutMs?: number } = {},
): Promise<Device> {
  const db = new Dexie(`bench-${process.pid}-${++counter}`) as Device['db'];
  db.version(1).stores({ ...Object.fromEntries(COLLECTIONS.map((c) => [c, 'id'])), ...synclineStores });
  const network = new ManualNetwork(opts.online ?? true);
  const sync = createSyncClient(db, {
    url,
    tables: Object.fromEntries(COLLECTIONS.map((c) => [c, { scope: SCOPE }])),
    scopes: [SCOPE],
    network,
    election: memoryElection(),
    backoff: { baseMs: 20, capMs: 200 },
    requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
  });
  await sync.start();
  return {
    db,
    sync,
    network,
    close: async () => {
      await sync.close();
      await Dexie.delete(db.name);
    },
  };
}

/** Resolves once the status satisfies `pred`. */
export function until(
  d: Device,
  pred: (s: SyncStatus) => boolean,
  ms: number,
  what: string,
): Promise<SyncStatus> {
  return within(firstValueFrom(d.sync.status$.pipe(filter(pred))), ms, what);
}

export const settled = (s: SyncStatus): boolean => s.phase === 'live' && s.pending === 0;

/** Fails loudly unless the device's scope hash equals the server's. */
export async function assertConverged(d: Device, what: string, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    await until(d, settled, Math.max(1, deadline - Date.now()), `${what}: settle`);
    const [local, server] = await Promise.all([d.sync.localHash(SCOPE), d.sync.serverHash(SCOPE)]);
    if (local.hash === server.hash) return local.hash;
    if (Date.now() > deadline)
      throw new Error(`${what}: not converged (local ${local.count} records, server ${server.count})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
