// Browser entry of the fault suite's Chromium scenarios: a Syncline client on real IndexedDB
// with a small control API (`window.chaos`) the Node side drives through `page.evaluate`.
// Query parameters: `db` (pages with the same name in one context are tabs of one device).
// The default leader election (Web Locks) decides which tab syncs.
import { Dexie, type Table } from 'dexie';
import {
  createSyncClient,
  ManualNetwork,
  SynclineError,
  synclineStores,
  type SyncStatus,
} from '@syncline/client';

export interface ChaosCard {
  id: string;
  board: string;
  title: string;
  blob?: string;
}

/** What a write returned to the app: done, or refused with an error (name or Syncline code). */
export type WriteAnswer = { ok: true } | { ok: false; error: string };

export interface ChaosApp {
  /** Puts every card in one Dexie read-write transaction. */
  putMany(cards: ChaosCard[]): Promise<WriteAnswer>;
  /** `sync.inc(cards, id, field, 1)`. */
  inc(id: string, field: string): Promise<WriteAnswer>;
  setOnline(online: boolean): void;
  /**
   * Emulated quota: once `bytes` more have been written to IndexedDB (any store, Syncline's
   * included), `put`/`add` throw `QuotaExceededError`, as Chromium's IndexedDB does when the
   * origin is full; null lifts it.
   */
  setQuota(bytes: number | null): void;
  /**
   * Arms a one-shot pause (a `debugger` statement: the tab's Debugger domain must be enabled)
   * right after the next apply of server changes placed its cursor write, in a microtask: the tab
   * hangs having placed its last wave, as when the OS suspends it at that point.
   */
  pauseAfterApply(): void;
  status(): SyncStatus | null;
  hashes(scope: string): Promise<{ local: string; server: string }>;
}

declare global {
  interface Window {
    chaos?: ChaosApp;
  }
}

/** An error as data: errors do not cross `page.evaluate` with their names. */
function answer(err: unknown): WriteAnswer {
  if (err instanceof SynclineError) return { ok: false, error: err.code };
  // Dexie wraps IndexedDB's DOMException: QuotaExceededError keeps its name on `inner`.
  const e = err as { name?: string; inner?: { name?: string } };
  return { ok: false, error: e.inner?.name ?? e.name ?? String(err) };
}

// Chromium's CDP quota override (Storage.overrideQuotaForOrigin) has no effect on IndexedDB in
// the Chromium this suite runs (navigator.storage.estimate() stays at 10 GiB and writes go on),
// so the quota is emulated where IndexedDB refuses a write: put/add throw QuotaExceededError,
// which fails the write's transaction.
let budget: number | null = null;
function installQuota(): void {
  for (const method of ['put', 'add'] as const) {
    const original = Object.getOwnPropertyDescriptor(IDBObjectStore.prototype, method)!.value as (
      this: IDBObjectStore,
      value: unknown,
      key?: IDBValidKey,
    ) => IDBRequest<IDBValidKey>;
    IDBObjectStore.prototype[method] = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (budget !== null) {
        const size = JSON.stringify(value ?? null).length;
        if (size > budget) throw new DOMException('the origin is out of storage quota', 'QuotaExceededError');
        budget -= size;
      }
      return original.call(this, value, key);
    };
  }
}

let pauseArmed = false;
/** Apply transactions (over the app's table) that placed a cursor write. */
const applies = new WeakSet<IDBTransaction>();
function installPause(): void {
  const put = Object.getOwnPropertyDescriptor(IDBObjectStore.prototype, 'put')!
    .value as IDBObjectStore['put'];
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    const req = put.call(this, value, key);
    // The cursor write of an apply: the scopes store, in a transaction over the app's table.
    if (this.name === '_syncline_scopes' && this.transaction.objectStoreNames.contains('cards'))
      applies.add(this.transaction);
    return req;
  };
  const commit = Object.getOwnPropertyDescriptor(IDBTransaction.prototype, 'commit')!
    .value as IDBTransaction['commit'];
  // The earliest point after which an apply must hold nothing: its commit asked for (in the
  // task that placed its last wave, or, on the one-wave path, that checked its reads).
  IDBTransaction.prototype.commit = function (this: IDBTransaction) {
    commit.call(this);
    if (pauseArmed && applies.has(this)) {
      pauseArmed = false;
      queueMicrotask(() => {
        // eslint-disable-next-line no-debugger -- the hang this suite injects
        debugger;
      });
    }
  };
}

async function start(): Promise<void> {
  installQuota();
  installPause();
  const params = new URLSearchParams(location.search);
  const url = window.__SYNCLINE_URL__;
  if (url === undefined) throw new Error('no sync server URL');
  const db = new Dexie(params.get('db') ?? 'chaos') as Dexie & { cards: Table<ChaosCard, string> };
  db.version(1).stores({ cards: 'id, board', ...synclineStores });
  const network = new ManualNetwork(true);
  const sync = createSyncClient(db, {
    url,
    tables: { cards: { scope: (card) => `board:${card['board'] as string}` } },
    scopes: ['board:1'],
    network,
    backoff: { baseMs: 50, capMs: 500 },
    requestTimeoutMs: 5_000,
  });
  let latest: SyncStatus | null = null;
  sync.status$.subscribe((s) => (latest = s));
  window.chaos = {
    async putMany(cards) {
      try {
        await db.transaction('rw', db.cards, async () => {
          for (const c of cards) await db.cards.put(c);
        });
        return { ok: true };
      } catch (err) {
        return answer(err);
      }
    },
    async inc(id, field) {
      try {
        await sync.inc('cards', id, field, 1);
        return { ok: true };
      } catch (err) {
        return answer(err);
      }
    },
    setOnline: (online) => network.set(online),
    setQuota: (bytes) => {
      budget = bytes;
    },
    pauseAfterApply: () => {
      pauseArmed = true;
    },
    status: () => latest,
    async hashes(scope) {
      const [local, server] = await Promise.all([sync.localHash(scope), sync.serverHash(scope)]);
      return { local: local.hash, server: server.hash };
    },
  };
  await sync.start();
  window.__result = { ok: true };
}

start().catch((err: unknown) => {
  window.__result = { ok: false, error: String(err) };
});
