// Dexie's liveQuery only runs against the global indexedDB: install fake-indexeddb globally.
import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import { firstValueFrom, filter } from 'rxjs';
import {
  createSyncClient,
  ManualNetwork,
  memoryElection,
  synclineStores,
  type LeaderElection,
  type SyncClient,
  type SyncClientOptions,
  type SyncStatus,
} from '@syncline/client';

export interface Card {
  id: string;
  board: string;
  title: string;
  notes?: string;
  status?: string;
  likes?: number;
  due?: Date;
}

export const SCOPE = 'board:1';

export interface Device {
  readonly db: Dexie & { cards: Dexie.Table<Card, string> };
  readonly sync: SyncClient;
  readonly network: ManualNetwork;
}

let counter = 0;

/** A "device": its own IndexedDB (fake-indexeddb), its own network switch, one sync client. */
export function device(
  url: string,
  opts: {
    name?: string;
    election?: LeaderElection;
    online?: boolean;
    client?: Partial<SyncClientOptions>;
  } = {},
): Device {
  // Devices are separate databases; "tabs" of one device share a database name.
  const db = new Dexie(opts.name ?? `device-${process.pid}-${++counter}`) as Device['db'];
  db.version(1).stores({ cards: 'id, board, status', ...synclineStores });
  const network = new ManualNetwork(opts.online ?? true);
  const sync = createSyncClient(db, {
    url,
    tables: { cards: { scope: (c) => `board:${c.board as string}` } },
    scopes: [SCOPE],
    network,
    election: opts.election ?? memoryElection(),
    backoff: { baseMs: 20, capMs: 200 },
    requestTimeoutMs: 5_000,
    ...opts.client,
  });
  return { db, sync, network };
}

/** Resolves once the client's status satisfies `pred`. */
export function until(
  sync: SyncClient,
  pred: (s: SyncStatus) => boolean,
  timeoutMs = 10_000,
): Promise<SyncStatus> {
  return Promise.race([
    firstValueFrom(sync.status$.pipe(filter(pred))),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`status condition not met in ${timeoutMs}ms`)), timeoutMs),
    ),
  ]);
}

/** Live, nothing pending. */
export const settled = (s: SyncStatus) => s.phase === 'live' && s.pending === 0;

/** Waits until the device is settled and its scope hash equals the server's. */
export async function converged(d: Device, scope = SCOPE, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await until(d.sync, settled, Math.max(1, deadline - Date.now()));
    const [local, server] = await Promise.all([d.sync.localHash(scope), d.sync.serverHash(scope)]);
    if (local.hash === server.hash) return local.hash;
    if (Date.now() > deadline)
      throw new Error(`not converged: local ${local.count} records, server ${server.count}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
