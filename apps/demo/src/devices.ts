// A "device" is one Dexie database with its own Syncline client, client id and network switch.
// The page runs two of them side by side; another browser (or a private window) is a third.
import { Dexie, type Table } from 'dexie';
import { filter, firstValueFrom } from 'rxjs';
import { createSyncClient, synclineStores, type SyncClient } from '@syncline/client';
import { BOARD, SCOPE, welcomeCards, type Card } from './model';
import { deviceNetwork, type DeviceNetwork } from './network';

export type DemoDb = Dexie & { cards: Table<Card, string> };

export interface Device {
  /** 'a' or 'b': used in ids and the database name. */
  readonly key: string;
  /** "Device A" */
  readonly name: string;
  /** Who uses it: sent as the (development-mode) token, so history says who changed what. */
  readonly user: string;
  readonly db: DemoDb;
  readonly sync: SyncClient;
  /** The device's Online switch combined with the browser's network. */
  readonly network: DeviceNetwork;
  /** Moves the device's Online switch and remembers it across reloads. */
  setOnline(online: boolean): void;
}

const DEVICES = [
  { key: 'a', name: 'Device A', user: 'Ada' },
  { key: 'b', name: 'Device B', user: 'Ben' },
] as const;

function onlineKey(dbName: string): string {
  return `${dbName}:online`;
}

function readOnline(dbName: string): boolean {
  try {
    return localStorage.getItem(onlineKey(dbName)) !== 'false';
  } catch {
    return true;
  }
}

export function createDevice(spec: (typeof DEVICES)[number], url: string): Device {
  const dbName = `demo-device-${spec.key}`;
  const db = new Dexie(dbName) as DemoDb;
  db.version(1).stores({ cards: 'id, board, status, createdAt', ...synclineStores });
  // Starts switched off if it was before a reload: offline edits stay offline. The browser's
  // own network counts too: no network, no connection attempts.
  const network = deviceNetwork(readOnline(dbName));
  // Another tab of this browser moved the switch (it syncs the device): follow it here too.
  globalThis.addEventListener?.('storage', (e: StorageEvent) => {
    if (e.key === onlineKey(dbName)) network.set(e.newValue !== 'false');
  });
  const sync = createSyncClient(db, {
    url,
    tables: { cards: { scope: (card) => `board:${card['board'] as string}` } },
    scopes: [SCOPE],
    network,
    token: spec.user,
    // Quick reconnects: in the demo the server is always nearby.
    backoff: { baseMs: 200, capMs: 3_000 },
  });
  return {
    ...spec,
    db,
    sync,
    network,
    setOnline(online) {
      try {
        localStorage.setItem(onlineKey(dbName), String(online));
      } catch {
        // Storage may be unavailable (private mode quotas): the switch still works for this page.
      }
      network.set(online);
    },
  };
}

/** Both devices of this page, synced against the server this page came from. */
export function createDevices(url: string): Device[] {
  return DEVICES.map((spec) => createDevice(spec, url));
}

/**
 * Resolves once this tab knows its role for the device: it leads (runs sync), or another tab
 * holds the device's lock and this tab's request waits behind it. Rendering before that would
 * flash "another tab syncs this device" in a single tab while its own lock is being granted.
 * The lock name is the client's (`syncline:<database name>`). Without Web Locks it resolves at once.
 */
export async function settleLeadership(device: Device, timeoutMs = 3_000): Promise<void> {
  const leader = firstValueFrom(device.sync.status$.pipe(filter((s) => s.isLeader)));
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  if (locks === undefined) return;
  // Requests and queries are handled in order: by now this tab's request holds or waits.
  const name = `syncline:${device.db.name}`;
  const state = await locks.query();
  const waiting = state.pending?.some((l) => l.name === name) === true;
  const heldByOther = waiting && state.held?.some((l) => l.name === name) === true;
  if (heldByOther) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([leader, new Promise<void>((done) => (timer = setTimeout(done, timeoutMs)))]).finally(
    () => clearTimeout(timer),
  );
}

/**
 * Writes the welcome cards once the device has caught up with a board that has never had a
 * change (server head 0), so a first visit shows what to try. Only the syncing tab does it.
 */
export async function seedEmptyBoard(device: Device): Promise<void> {
  const status = await firstValueFrom(
    device.sync.status$.pipe(filter((s) => s.isLeader && s.initialSync.scopes[SCOPE]?.done === true)),
  );
  if (status.initialSync.scopes[SCOPE]?.head !== 0) return;
  if ((await device.db.cards.where('board').equals(BOARD).primaryKeys()).length > 0) return;
  await device.sync.transaction([device.db.cards], async () => {
    await device.db.cards.bulkPut(welcomeCards(Date.now()));
  });
}
