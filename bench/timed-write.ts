/**
 * Result latency of one app write on a Syncline device: from the write call until the server's
 * result for its mutation has been applied locally (its outbox entry is gone). Event-driven
 * through Dexie's `storagemutated`, so no polling skews the figure.
 */
import { Dexie } from 'dexie';
import { synclineStores } from '@syncline/client';
import type { Device } from './syncline-device.js';

/** The outbox table's name, as the client's own schema declares it (keyed by mid). */
export const OUTBOX = Object.keys(synclineStores).find((t) => t.endsWith('outbox'))!;

type Parts = Record<string, unknown>;

/** Resolves once the outbox entry `mid` is gone (result applied, or never queued). */
export function drained(d: Device, mid: number): Promise<void> {
  const prefix = `idb://${d.db.name}/${OUTBOX}/`;
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () =>
      d.db
        .table(OUTBOX)
        .get(mid)
        .then((entry) => {
          if (entry !== undefined || done) return;
          done = true;
          Dexie.on.storagemutated.unsubscribe(on);
          resolve();
        }, reject);
    const on = (parts: Parts) => {
      if (Object.keys(parts).some((k) => k.startsWith(prefix))) void check();
    };
    Dexie.on.storagemutated.subscribe(on);
    void check();
  });
}

/**
 * Runs `write` (one synced write on `table`) in a transaction that also reads back the mid it
 * queued, then waits for that mid's result. Returns the ms from the call to the result.
 */
export async function timedWrite(d: Device, table: string, write: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const mid = await d.db.transaction('rw', [table, OUTBOX], async () => {
    await write();
    const last = (await d.db.table(OUTBOX).orderBy('mid').last()) as { mid: number } | undefined;
    if (!last) throw new Error(`write on ${table} queued no mutation`);
    return last.mid;
  });
  await drained(d, mid);
  return performance.now() - t0;
}
