/**
 * B6 cold bootstrap, in headless Chromium on real IndexedDB: a fresh Syncline client joins a
 * scope of N records seeded on a real server process (SQLite WAL), against the durable floor
 * (Syncline's baseline: pages of 500 from a raw server reading SQLite, each committed relaxed with
 * the cursor, `b6-durable.page.ts`), the storage floors (raw Dexie `bulkPut` of the same rows,
 * fetched into the page first) and the peer (RxDB `bulkInsert` of the same rows: its storage
 * floor, not its replication). Every run gets a fresh browser context, so
 * a fresh IndexedDB, and its page's JS heap is sampled for the peak. Runs of one size are
 * interleaved; with several runs the median is reported. Full mode runs 10k; 100k only with
 * SYNCLINE_BENCH_B6_100K=1 (it takes minutes today, over the suite's budget).
 */
import { fileURLToPath } from 'node:url';
import { startPeer } from '../processes.js';
import type { BenchOptions, BenchRow } from '../report.js';
import { launchBenchBrowser } from './chromium.js';
import { sampleHeap } from './heap-sampler.js';
import { runBench } from './lifetime.js';
import { B6_VARIANTS, type B6PageApi, type B6Result, type B6Variant } from './page-api.js';
import { callPage } from './page-call.js';
import { startPageHost } from './page-host.js';
import { seededRowsJson, seedScope } from './seed.js';
import { startSyncServer } from './sync-server.js';

const SYNCLINE_ENTRY = fileURLToPath(new URL('./b6-cold-bootstrap.page.ts', import.meta.url));
const RXDB_ENTRY = fileURLToPath(new URL('./b6-rxdb.page.ts', import.meta.url));
const DURABLE_ENTRY = fileURLToPath(new URL('./b6-durable.page.ts', import.meta.url));

interface Size {
  readonly count: number;
  readonly runs: number;
}

const INFO: Record<B6Variant, { kind: BenchRow['kind']; label: string; durability: string }> = {
  syncline: {
    kind: 'syncline',
    label: 'fresh client joins the scope (pull pages of 500)',
    durability: 'relaxed (pulled server state; local writes and push results are strict)',
  },
  'floor-durable': {
    kind: 'floor',
    label: 'hand-written: pages of 500 from a raw server reading SQLite, bulkPut + cursor per page',
    durability: 'relaxed (as Syncline commits pulled pages)',
  },
  'floor-dexie': {
    kind: 'floor',
    label: 'raw Dexie bulkPut, 500-row transactions, rows prefetched in the page',
    durability: 'strict',
  },
  'floor-dexie-relaxed': {
    kind: 'floor',
    label: 'raw Dexie bulkPut, 500-row transactions, rows prefetched in the page',
    durability: 'relaxed',
  },
  'peer-rxdb': {
    kind: 'peer',
    label: 'RxDB (Dexie storage) bulkInsert, 500-row batches, rows prefetched (not replication)',
    durability: 'Chromium default (relaxed)',
  },
};

const label = (count: number) => (count >= 1000 ? `${count / 1000}k` : String(count));
const scopeOf = (count: number) => `bench:b6-${label(count)}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round = (x: number) => Math.round(x * 10) / 10;

/** Syncline against the durable floor; the durable floor and RxDB against relaxed raw Dexie. */
function baselineOf(variant: B6Variant, count: number): { baseline?: string } {
  if (variant === 'floor-dexie' || variant === 'floor-dexie-relaxed') return {};
  return { baseline: `${variant === 'syncline' ? 'floor-durable' : 'floor-dexie-relaxed'}-${label(count)}` };
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  // 100k takes minutes at today's bootstrap speed: measured once on request, outside the budget.
  const sizes: Size[] = opts.quick
    ? [{ count: 1_000, runs: 1 }]
    : [
        { count: 10_000, runs: 1 },
        ...(process.env['SYNCLINE_BENCH_B6_100K'] === '1' ? [{ count: 100_000, runs: 1 }] : []),
      ];
  // Under the runner's own limits, so this cleanup runs before it gives up on us.
  const deadline = opts.quick ? 40_000 : sizes.length > 1 ? 600_000 : 115_000;
  return runBench('B6 cold bootstrap', deadline, async (life): Promise<BenchRow[]> => {
    const pages = await life.own(await startPageHost(), (h) => h.close());
    await pages.addBundle('b6', SYNCLINE_ENTRY);
    await pages.addBundle('b6rxdb', RXDB_ENTRY);
    await pages.addBundle('b6durable', DURABLE_ENTRY);
    for (const { count } of sizes) pages.addData(`rows${count}`, seededRowsJson(count));
    const server = await life.own(
      await startSyncServer(pages.url, async (db) => {
        for (const { count } of sizes) await seedScope(db, scopeOf(count), count);
      }),
      (s) => s.stop(),
    );
    const syncUrl = server.url;
    // The durable floor's own server process per size, seeded with the same rows.
    const floors = new Map<number, string>();
    for (const { count } of sizes) {
      const floor = await life.own(await startPeer('durable-floor-server', [String(count)]), (p) => p.stop());
      floors.set(count, `http://127.0.0.1:${floor.port}/pull`);
    }
    const chromium = await life.own(await launchBenchBrowser(), (b) => b.close());

    const once = async (variant: B6Variant, count: number) => {
      const context = await chromium.newContext();
      try {
        const url =
          variant === 'peer-rxdb'
            ? pages.pageUrl('b6rxdb')
            : variant === 'floor-durable'
              ? pages.pageUrl('b6durable')
              : pages.pageUrl('b6', { sync: syncUrl });
        const page = await chromium.openPage(context, url);
        const dataUrl =
          variant === 'floor-durable' ? floors.get(count)! : `${pages.url}/data/rows${count}.json`;
        const run = { variant, count, scope: scopeOf(count), dataUrl };
        return await sampleHeap(context, page, () =>
          callPage<B6PageApi, 'bootstrap'>(page, 500_000, 'bootstrap', run),
        );
      } finally {
        await context.close();
      }
    };

    const rows: BenchRow[] = [];
    for (const { count, runs } of sizes) {
      const results = new Map<B6Variant, { result: B6Result; peakMB: number; baselineMB: number }[]>();
      for (let r = 0; r < runs; r++) {
        for (let k = 0; k < B6_VARIANTS.length; k++) {
          const variant = B6_VARIANTS[(r + k) % B6_VARIANTS.length]!;
          const { result, heap } = await once(variant, count);
          results.set(variant, [...(results.get(variant) ?? []), { result, ...heap }]);
        }
      }
      chromium.assertNoErrors();
      // doneVsFloor: against the raw storage floor with Syncline's durability (relaxed pages).
      const FLOOR = 'floor-dexie-relaxed';
      const floorDone = median(results.get(FLOOR)!.map((x) => x.result.doneMs));
      for (const variant of B6_VARIANTS) {
        const got = results.get(variant)!;
        const doneMs = median(got.map((x) => x.result.doneMs));
        const fetches = got.map((x) => x.result.fetchMs).filter((ms): ms is number => ms !== undefined);
        rows.push({
          bench: 'B6',
          name: `${variant}-${label(count)}`,
          kind: INFO[variant].kind,
          label: `${label(count)} records: ${INFO[variant].label}`,
          durability: INFO[variant].durability,
          perSecond: Math.round((count / doneMs) * 1000),
          extra: {
            firstRowsMs: round(median(got.map((x) => x.result.firstMs))),
            doneMs: round(doneMs),
            doneVsFloor: Math.round((doneMs / floorDone) * 100) / 100,
            peakHeapMB: Math.max(...got.map((x) => x.peakMB)),
            baselineHeapMB: Math.min(...got.map((x) => x.baselineMB)),
            ...(fetches.length > 0 ? { fetchMs: round(median(fetches)) } : {}),
            runs,
          },
          versions: { chromium: chromium.browser.version() },
          ...baselineOf(variant, count),
        });
      }
    }
    return rows;
  });
}
