/**
 * B6 page for Syncline and the raw-Dexie floor (RxDB has its own page: Dexie refuses two
 * versions in one page). Query: `sync` = server URL. Each run gets a fresh browser context from
 * the driver, so a fresh IndexedDB.
 *
 * Syncline: a fresh client joins the seeded scope; timed from `start()` (database open, connect,
 * subscribe, pull pages) to 500 rows queryable and to initial sync done. Floors: the same rows,
 * fetched first (timed apart), `bulkPut` in the same 500-row pages, strict and relaxed (Syncline
 * commits pulled pages relaxed), from database open on.
 */
import { Dexie, type Table } from 'dexie';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { createSyncClient, synclineStores } from '@syncline/client';
import type { B6PageApi, B6Result, B6Run } from './page-api.js';
import { firstRowsAt } from './page-first-rows.js';
import { exposeBench } from './page-runtime.js';
import { verifyCards, type BenchCard } from './records.js';

const PAGE_ROWS = 500;
const DONE_TIMEOUT_MS = 480_000;

type CardsDb = Dexie & { cards: Table<BenchCard, string> };

async function syncline(run: B6Run, url: string): Promise<B6Result> {
  const db = new Dexie(`b6-syncline-${run.count}`) as CardsDb;
  db.version(1).stores({ cards: 'id', ...synclineStores });
  const sync = createSyncClient(db, { url, tables: { cards: { scope: run.scope } }, scopes: [run.scope] });
  try {
    const done = firstValueFrom(
      sync.status$.pipe(
        filter((s) => s.initialSync.done),
        timeout(DONE_TIMEOUT_MS),
      ),
    );
    const start = performance.now();
    const startup = sync.start();
    const first = firstRowsAt(db.cards, start);
    await startup;
    const firstMs = await first;
    await done;
    const doneMs = performance.now() - start;
    return { firstMs, doneMs, rows: await verifyCards(db.cards, run.count) };
  } finally {
    await sync.close();
  }
}

async function floor(run: B6Run, durability: 'strict' | 'relaxed'): Promise<B6Result> {
  const fetched = performance.now();
  const rows = (await (await fetch(run.dataUrl)).json()) as BenchCard[];
  const fetchMs = performance.now() - fetched;
  const db = new Dexie(`b6-floor-${durability}-${run.count}`, {
    chromeTransactionDurability: durability,
  }) as CardsDb;
  db.version(1).stores({ cards: 'id' });
  const start = performance.now();
  await db.open();
  const first = firstRowsAt(db.cards, start);
  for (let i = 0; i < rows.length; i += PAGE_ROWS) await db.cards.bulkPut(rows.slice(i, i + PAGE_ROWS));
  const doneMs = performance.now() - start;
  const firstMs = await first;
  try {
    return { firstMs, doneMs, rows: await verifyCards(db.cards, run.count), fetchMs };
  } finally {
    db.close();
  }
}

exposeBench(async () => {
  const url = new URLSearchParams(location.search).get('sync');
  if (url === null) throw new Error('no ?sync= server URL');
  const api: B6PageApi = {
    bootstrap: (run) => {
      if (run.variant === 'syncline') return syncline(run, url);
      if (run.variant === 'floor-dexie') return floor(run, 'strict');
      if (run.variant === 'floor-dexie-relaxed') return floor(run, 'relaxed');
      throw new Error(`this page has no variant ${run.variant}`);
    },
  };
  return api;
});
