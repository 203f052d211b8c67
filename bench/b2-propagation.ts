/**
 * B2 propagation A → server → B: sequential single-record writes on A, each timed from A's write
 * call to B's observer seeing the new version. Syncline, the raw Socket.IO relay (floor) and the
 * peers run side by side, interleaved in rounds so machine noise hits all of them alike.
 */
import { within } from './cards.js';
import type { PropagationPair } from './pair.js';
import { pouchdbPair } from './peers/pouchdb-pair.js';
import { rxdbPair } from './peers/rxdb-pair.js';
import { socketioPair } from './peers/socketio-pair.js';
import { yjsPair } from './peers/yjs-pair.js';
import type { BenchOptions, BenchRow } from './report.js';
import { summarize } from './stats.js';
import { postgresUrl, redisUrl } from './postgres.js';
import { synclineClusterPair, synclinePair } from './syncline-pair.js';

const CONTENDERS: readonly (() => Promise<PropagationPair>)[] = [
  synclinePair,
  socketioPair,
  yjsPair,
  rxdbPair,
  pouchdbPair,
];

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const writes = opts.quick ? 100 : 5_000;
  const warmup = opts.quick ? 10 : 200;
  const rounds = opts.quick ? 2 : 5;
  const ids = 500;
  const pairs: PropagationPair[] = [];
  const contenders = [...CONTENDERS];
  const pg = await postgresUrl('B2 two-node variant');
  if (pg) {
    contenders.push(() => synclineClusterPair(pg));
    const redis = redisUrl();
    // Quick mode (CI) proves the cluster path once, over PostgreSQL; Redis runs in full mode.
    if (redis && !opts.quick) contenders.push(() => synclineClusterPair(pg, redis));
    else if (!opts.quick) console.log('   B2 two nodes over Redis skipped: SYNCLINE_REDIS_URL is not set');
  }
  try {
    for (const make of contenders) pairs.push(await make());
    const samples = pairs.map(() => [] as number[]);
    let seq = 0;
    const step = async (pair: PropagationPair, out: number[] | undefined) => {
      const s = ++seq;
      const ms = await within(
        pair.propagate(`r${s % ids}`, s),
        15_000,
        `B2 ${pair.row.name}: B never saw seq ${s}`,
      );
      out?.push(ms);
    };
    for (const pair of pairs) for (let i = 0; i < warmup; i++) await step(pair, undefined);
    const perRound = Math.ceil(writes / rounds);
    for (let r = 0; r < rounds; r++) {
      for (const [k, pair] of pairs.entries()) {
        for (let i = 0; i < perRound; i++) await step(pair, samples[k]);
      }
    }
    const seconds = (k: number) => samples[k]!.reduce((a, b) => a + b, 0) / 1000;
    return pairs.map((pair, k) => ({
      bench: 'B2',
      ...pair.row,
      label: `${pair.row.label}; ${samples[k]!.length} sequential writes`,
      latencyMs: summarize(samples[k]!),
      perSecond: Math.round(samples[k]!.length / seconds(k)),
      ...(pair.row.name === 'floor-socketio' ? {} : { baseline: 'floor-socketio' }),
    }));
  } finally {
    await Promise.allSettled(pairs.map((p) => p.close()));
  }
}
