// The outbox middleware installed on the app's Dexie database: every write on a synced table
// queues its mutation in the same transaction. This keeps what the facade needs from it.
import type { DBCore, Dexie } from 'dexie';
import type { ResolvedOptions } from './resolve-options.js';
import { createOutboxMiddleware, type TxMarkers } from './store/outbox-middleware.js';
import type { OutboxEntry } from './store/schema.js';

/** The installed outbox, as the facade and leadership see it. */
export interface InstalledOutbox {
  /** The middleware's DBCore layer (adoption writes through it, below app hooks). */
  readonly core: () => DBCore;
  /** The mid of the newest write made in this tab (0: none yet). */
  readonly lastMid: () => number;
}

/**
 * Installs the outbox middleware on `db` (before it opens). `onQueued` hears of each committed
 * transaction that queued mutations in this tab, with its last mid and the entries it queued.
 */
export function installOutbox(
  db: Dexie,
  options: ResolvedOptions,
  markers: TxMarkers,
  onQueued: (lastMid: number, entries: readonly OutboxEntry[]) => void,
): InstalledOutbox {
  let lastMid = 0;
  let core: DBCore | undefined;
  const outbox = createOutboxMiddleware({
    tables: options.tables,
    markers,
    now: options.now,
    limits: options.limits,
    onQueued: (entries) => {
      const mid = entries[entries.length - 1]?.mid ?? 0;
      lastMid = Math.max(lastMid, mid);
      onQueued(mid, entries);
    },
  });
  db.use({
    ...outbox,
    create: (down) => {
      const layer = outbox.create(down);
      core = { ...down, ...layer };
      return layer;
    },
  });
  return {
    // Set once the database opens, which is before anything leads (start() opens it first).
    core: () => core!,
    lastMid: () => lastMid,
  };
}
