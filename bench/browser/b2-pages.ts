/**
 * B2 variant, two Chromium pages: page A writes, page B (another browser context, so its own
 * IndexedDB) observes, through a real `syncline-server` process on SQLite (WAL, synchronous
 * FULL). Each sample runs from A's `put` call to B's live query emitting the new revision, both
 * on the clock the pages of one browser share (`performance.timeOrigin + performance.now()`).
 * Writes are sequential. Strict (as shipped) and relaxed client writes, and two floors: the
 * durable floor (`b2-durable.page.ts`: Syncline's durability written by hand, the Syncline rows'
 * baseline) and the same card over a bare Socket.IO relay process between two pages; and the
 * RxDB peer (`b2-rxdb.page.ts`, against the relay like B2's Node peers). Variants interleave in blocks
 * (`block-plan.ts`); the first block is warm-up; `extra.blocks` < 10 means a busy machine cut
 * the run short.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { versionOf } from '../peers/untyped.js';
import { startPeer } from '../processes.js';
import type { BenchOptions, BenchRow } from '../report.js';
import { summarize } from '../stats.js';
import { launchBenchBrowser } from './chromium.js';
import { runRounds } from './block-plan.js';
import { runBench } from './lifetime.js';
import type { B2PageApi } from './page-api.js';
import { callPage } from './page-call.js';
import { startPageHost } from './page-host.js';
import { startSyncServer } from './sync-server.js';

const SYNCLINE_ENTRY = fileURLToPath(new URL('./b2-pages.page.ts', import.meta.url));
const RELAY_ENTRY = fileURLToPath(new URL('./b2-relay.page.ts', import.meta.url));
const DURABLE_ENTRY = fileURLToPath(new URL('./b2-durable.page.ts', import.meta.url));
const RXDB_ENTRY = fileURLToPath(new URL('./b2-rxdb.page.ts', import.meta.url));
const SEEN_TIMEOUT_MS = 5_000;

const VARIANTS = [
  'syncline-pages',
  'syncline-pages-relaxed',
  'floor-durable-pages',
  'floor-socketio-pages',
  'peer-rxdb-pages',
] as const;
type Variant = (typeof VARIANTS)[number];

const INFO: Record<Variant, Pick<BenchRow, 'kind' | 'label' | 'durability'> & { durability: string }> = {
  'syncline-pages': {
    kind: 'syncline',
    label: 'Chromium A put → server (SQLite WAL) → Chromium B liveQuery',
    durability: 'strict client, SQLite synchronous=FULL',
  },
  'syncline-pages-relaxed': {
    kind: 'syncline',
    label: 'Chromium A put → server (SQLite WAL) → Chromium B liveQuery',
    durability: 'relaxed client, SQLite synchronous=FULL',
  },
  'floor-durable-pages': {
    kind: 'floor',
    label:
      'hand-written: Chromium A strict txn (row + outbox) → SQLite commit → Chromium B relaxed txn (row + cursor) → liveQuery',
    durability: 'strict client write, SQLite synchronous=FULL before forwarding, relaxed apply',
  },
  'floor-socketio-pages': {
    kind: 'floor',
    label: 'Chromium A emit → bare Socket.IO relay → Chromium B handler',
    durability: 'none',
  },
  'peer-rxdb-pages': {
    kind: 'peer',
    label: 'Chromium A RxDB upsert → RxDB websocket replication server → Chromium B findOne().$',
    durability: 'clients: RxDB Dexie storage, Chromium default (relaxed); server: RxDB memory storage',
  },
};

/** Syncline against the durable floor; the durable floor and the peer against the relay. */
function baselineOf(variant: Variant): { baseline?: string } {
  if (variant === 'floor-socketio-pages') return {};
  return { baseline: INFO[variant].kind === 'syncline' ? 'floor-durable-pages' : 'floor-socketio-pages' };
}

interface Pair {
  readonly writer: Page;
  readonly observer: Page;
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const plan = {
    rounds: opts.quick ? 2 : 10,
    softBudgetMs: opts.quick ? 25_000 : 65_000,
    startedAt: performance.now(),
  };
  // The relaxed variant and the peer are side figures: fewer samples (suite budget).
  const side = (variant: Variant) => variant === 'syncline-pages-relaxed' || variant === 'peer-rxdb-pages';
  const perBlock = (variant: Variant) => (side(variant) ? 300 : 1_000) / (opts.quick ? 100 : plan.rounds);
  // A round holds five variants: at load 10 one took about 12 s, so the hard deadline leaves
  // room for a last round started just before the soft budget.
  return runBench(
    'B2 two Chromium pages',
    opts.quick ? 40_000 : 115_000,
    async (life): Promise<BenchRow[]> => {
      const pages = await life.own(await startPageHost(), (h) => h.close());
      await pages.addBundle('b2', SYNCLINE_ENTRY);
      await pages.addBundle('b2relay', RELAY_ENTRY);
      await pages.addBundle('b2durable', DURABLE_ENTRY);
      await pages.addBundle('b2rxdb', RXDB_ENTRY);
      const server = await life.own(await startSyncServer(pages.url), (s) => s.stop());
      const relay = await life.own(await startPeer('socketio-floor'), (p) => p.stop());
      const durable = await life.own(await startPeer('durable-floor-server'), (p) => p.stop());
      const rxdb = await life.own(await startPeer('rxdb-server'), (p) => p.stop());
      const chromium = await life.own(await launchBenchBrowser(), (b) => b.close());

      const open = async (url: string) => chromium.openPage(await chromium.newContext(), url);
      const pair = async (query: Record<string, string>, bundle = 'b2'): Promise<Pair> => ({
        writer: await open(pages.pageUrl(bundle, { ...query, role: 'writer' })),
        observer: await open(pages.pageUrl(bundle, { ...query, role: 'observer' })),
      });
      const sync = server.url;
      const pairs: Record<Variant, Pair> = {
        'syncline-pages': await pair({ sync, scope: 'bench:b2-strict', durability: 'strict' }),
        'syncline-pages-relaxed': await pair({ sync, scope: 'bench:b2-relaxed', durability: 'relaxed' }),
        'floor-durable-pages': await pair({ floor: `http://127.0.0.1:${durable.port}` }, 'b2durable'),
        'floor-socketio-pages': await pair({ relay: `http://127.0.0.1:${relay.port}` }, 'b2relay'),
        'peer-rxdb-pages': await pair({ rxdb: `ws://127.0.0.1:${rxdb.port}` }, 'b2rxdb'),
      };

      const samples = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
      const revs = new Map<Variant, number>();
      const blocks = await runRounds(plan, VARIANTS.length, async (_, k) => {
        const variant = VARIANTS[k]!;
        const { writer, observer } = pairs[variant];
        for (let i = 0; i < perBlock(variant); i++) {
          const rev = (revs.get(variant) ?? 0) + 1;
          revs.set(variant, rev);
          const sent = await callPage<B2PageApi, 'write'>(writer, 10_000, 'write', rev);
          const seen = await callPage<B2PageApi, 'seen'>(observer, 10_000, 'seen', rev, SEEN_TIMEOUT_MS);
          if (seen < sent) throw new Error(`${variant}: B saw rev ${rev} before A wrote it (clock skew?)`);
          samples.get(variant)!.push(seen - sent);
        }
        // Leave no push in flight into the next variant's block.
        await callPage<B2PageApi, 'drained'>(writer, 15_000, 'drained', 10_000);
      });
      chromium.assertNoErrors();
      return VARIANTS.map((variant) => ({
        bench: 'B2',
        name: variant,
        ...INFO[variant],
        latencyMs: summarize(samples.get(variant)!, 1 / blocks),
        versions: {
          chromium: chromium.browser.version(),
          ...(variant === 'peer-rxdb-pages' ? { rxdb: versionOf('rxdb') } : {}),
        },
        extra: { blocks },
        ...baselineOf(variant),
      }));
    },
  );
}
