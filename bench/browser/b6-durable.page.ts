/**
 * B6 page for the durable floor: a fresh client bootstraps from the durable floor server (raw
 * HTTP pages of 500 read from its SQLite file, no auth, no validation), committing each page's
 * rows and the cursor in one relaxed Dexie transaction, as Syncline commits pulled pages. The
 * next page is fetched while the current one is written. Timed from database open, like the
 * other variants; `dataUrl` is the server's `/pull` URL.
 */
import { applyChanges, openFloorDb, type FloorChange } from './durable-replica.js';
import type { B6PageApi, B6Result, B6Run } from './page-api.js';
import { firstRowsAt } from './page-first-rows.js';
import { exposeBench } from './page-runtime.js';
import { verifyCards, type BenchCard } from './records.js';

const PAGE_ROWS = 500;

async function pullPage(run: B6Run, after: number): Promise<FloorChange<BenchCard>[]> {
  const res = await fetch(`${run.dataUrl}?after=${after}&limit=${PAGE_ROWS}`);
  if (!res.ok) throw new Error(`pull after ${after}: HTTP ${res.status}`);
  return ((await res.json()) as { changes: FloorChange<BenchCard>[] }).changes;
}

async function durable(run: B6Run): Promise<B6Result> {
  const db = openFloorDb<BenchCard>(`b6-durable-${run.count}`, 'relaxed');
  const start = performance.now();
  await db.open();
  const first = firstRowsAt(db.cards, start);
  try {
    let next = pullPage(run, 0);
    for (;;) {
      const changes = await next;
      const last = changes[changes.length - 1];
      if (last === undefined) break;
      next = pullPage(run, last.version);
      await applyChanges(db, changes);
    }
    const doneMs = performance.now() - start;
    const firstMs = await first;
    const cursor = await db.meta.get('cursor');
    if (cursor?.version !== run.count) throw new Error(`cursor at ${cursor?.version}, want ${run.count}`);
    return { firstMs, doneMs, rows: await verifyCards(db.cards, run.count) };
  } finally {
    db.close();
  }
}

exposeBench(async () => {
  const api: B6PageApi = {
    bootstrap: (run) => {
      if (run.variant !== 'floor-durable') throw new Error(`this page has no variant ${run.variant}`);
      return durable(run);
    },
  };
  return api;
});
