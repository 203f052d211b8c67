/**
 * B1 local write → live query, in headless Chromium on real IndexedDB. Syncline (strict, as it
 * ships; relaxed beside it; and a React `useLiveQuery` render variant) against the floor (raw
 * Dexie: record + outbox entry in one transaction → `liveQuery`) and the peer (RxDB on Dexie:
 * upsert → `findOne().$`). The Syncline clients are online against a real server process, and
 * each write waits for the previous one's ack (interactive pace). Variants run interleaved in
 * blocks (`block-plan.ts`); the first block is warm-up; `extra.blocks` < 10 means a busy machine
 * cut the run short.
 */
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchRow } from '../report.js';
import { summarize } from '../stats.js';
import { launchBenchBrowser } from './chromium.js';
import { runRounds } from './block-plan.js';
import { runBench } from './lifetime.js';
import { B1_VARIANTS, type B1PageApi, type B1Variant } from './page-api.js';
import { callPage } from './page-call.js';
import { startPageHost } from './page-host.js';
import { startSyncServer } from './sync-server.js';

const SYNCLINE_ENTRY = fileURLToPath(new URL('./b1-local-write.page.tsx', import.meta.url));
const RXDB_ENTRY = fileURLToPath(new URL('./b1-rxdb.page.ts', import.meta.url));
const FRAME_MS = 16;

interface RowInfo {
  /** Headline rows get the full sample count; the variants beside them half (suite budget). */
  readonly main: boolean;
  readonly kind: BenchRow['kind'];
  readonly label: string;
  readonly durability: string;
  readonly baseline?: B1Variant;
}

const ROWS: Record<B1Variant, RowInfo> = {
  syncline: {
    main: true,
    kind: 'syncline',
    label: 'put via outbox middleware → client.liveQuery (online, writes paced by acks)',
    durability: 'strict',
    baseline: 'floor-dexie',
  },
  'syncline-react': {
    main: false,
    kind: 'syncline',
    label: 'put → useLiveQuery committed render',
    durability: 'strict',
    baseline: 'floor-dexie',
  },
  'syncline-relaxed': {
    main: false,
    kind: 'syncline',
    label: 'put via outbox middleware → client.liveQuery (online, writes paced by acks)',
    durability: 'relaxed',
    baseline: 'floor-dexie-relaxed',
  },
  'floor-dexie': {
    main: true,
    kind: 'floor',
    label: 'raw Dexie record + outbox tx → liveQuery',
    durability: 'strict',
  },
  'floor-dexie-relaxed': {
    main: false,
    kind: 'floor',
    label: 'raw Dexie record + outbox tx → liveQuery',
    durability: 'relaxed',
  },
  'peer-rxdb': {
    main: true,
    kind: 'peer',
    label: 'RxDB (Dexie storage) upsert → findOne().$',
    durability: 'Chromium default (relaxed)',
    baseline: 'floor-dexie-relaxed',
  },
  'peer-rxdb-strict': {
    main: false,
    kind: 'peer',
    label: 'RxDB (Dexie storage) upsert → findOne().$',
    durability: 'strict',
    baseline: 'floor-dexie',
  },
};

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const plan = {
    rounds: opts.quick ? 3 : 10,
    softBudgetMs: opts.quick ? 25_000 : 65_000,
    startedAt: performance.now(),
  };
  const perBlock = (variant: B1Variant) =>
    (ROWS[variant].main ? 1_000 : 300) / (opts.quick ? 100 : plan.rounds);
  return runBench('B1 local write', opts.quick ? 40_000 : 85_000, async (life): Promise<BenchRow[]> => {
    const host = await life.own(await startPageHost(), (h) => h.close());
    await host.addBundle('b1', SYNCLINE_ENTRY);
    await host.addBundle('b1rxdb', RXDB_ENTRY);
    const server = await life.own(await startSyncServer(host.url), (s) => s.stop());
    const browser = await life.own(await launchBenchBrowser(), (b) => b.close());
    const context = await browser.newContext();
    const synclinePage = await browser.openPage(context, host.pageUrl('b1', { sync: server.url }));
    const rxdbPage = await browser.openPage(context, host.pageUrl('b1rxdb'));
    const pageOf = (variant: B1Variant) => (variant.startsWith('peer-rxdb') ? rxdbPage : synclinePage);
    const samples = new Map<B1Variant, number[]>(B1_VARIANTS.map((v) => [v, []]));
    const blocks = await runRounds(plan, B1_VARIANTS.length, async (_, k) => {
      const variant = B1_VARIANTS[k]!;
      const got = await callPage<B1PageApi, 'measure'>(
        pageOf(variant),
        120_000,
        'measure',
        variant,
        perBlock(variant),
      );
      samples.get(variant)!.push(...got);
    });
    browser.assertNoErrors();
    const versions = {
      ...(await callPage<B1PageApi, 'versions'>(synclinePage, 10_000, 'versions')),
      ...(await callPage<B1PageApi, 'versions'>(rxdbPage, 10_000, 'versions')),
    };
    return B1_VARIANTS.map((variant) => {
      const all = samples.get(variant)!;
      const kept = all.slice(Math.floor(all.length / blocks));
      const row = ROWS[variant];
      return {
        bench: 'B1',
        name: variant,
        kind: row.kind,
        label: row.label,
        durability: row.durability,
        // The first block of every variant is warm-up (JIT, IndexedDB files, first sockets).
        latencyMs: summarize(all, 1 / blocks),
        extra: { writesOver16ms: kept.filter((ms) => ms >= FRAME_MS).length, blocks },
        versions,
        ...(row.baseline !== undefined ? { baseline: row.baseline } : {}),
      } satisfies BenchRow;
    });
  });
}
