/**
 * B6 page for the RxDB peer: the same rows, fetched first (timed apart), `bulkInsert`ed into
 * RxDB on its Dexie storage in 500-row pages. Not RxDB's replication: that would need RxDB's
 * own server, so this is RxDB's storage floor, a lower bound for its bootstrap.
 */
import type { B6PageApi, B6Result, B6Run } from './page-api.js';
import { exposeBench } from './page-runtime.js';
import { openRxCards } from './page-rxdb.js';
import { benchCard, cardDiff, type BenchCard } from './records.js';

const PAGE_ROWS = 500;

async function rxdb(run: B6Run): Promise<B6Result> {
  const fetched = performance.now();
  const rows = (await (await fetch(run.dataUrl)).json()) as BenchCard[];
  const fetchMs = performance.now() - fetched;
  const start = performance.now();
  const cards = await openRxCards(`b6rx${run.count}`, 'default');
  let firstMs: number | undefined;
  const sub = cards.find({ selector: {}, limit: PAGE_ROWS }).$.subscribe((docs) => {
    if (firstMs === undefined && docs.length >= PAGE_ROWS) firstMs = performance.now() - start;
  });
  try {
    for (let i = 0; i < rows.length; i += PAGE_ROWS) {
      const { error } = await cards.bulkInsert(rows.slice(i, i + PAGE_ROWS).map((row) => ({ ...row })));
      if (error.length > 0) throw new Error(`RxDB bulkInsert failed: ${JSON.stringify(error[0])}`);
    }
    const doneMs = performance.now() - start;
    const stored = await cards.count().exec();
    if (stored !== run.count) throw new Error(`RxDB stored ${stored} rows, want ${run.count}`);
    for (const i of [0, Math.floor(run.count / 2), run.count - 1]) {
      const want = benchCard(i);
      const diff = cardDiff((await cards.findOne(want.id).exec())?.toJSON(), want);
      if (diff !== undefined) throw new Error(`RxDB row ${want.id} is wrong: ${diff}`);
    }
    return { firstMs: firstMs ?? doneMs, doneMs, rows: stored, fetchMs };
  } finally {
    sub.unsubscribe();
    await cards.database.close();
  }
}

exposeBench(async () => {
  const api: B6PageApi = {
    bootstrap: (run) => {
      if (run.variant !== 'peer-rxdb') throw new Error(`this page has no variant ${run.variant}`);
      return rxdb(run);
    },
  };
  return api;
});
