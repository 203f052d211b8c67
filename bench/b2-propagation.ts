/**
 * B2 propagation A → server → B: sequential single-record writes on A, each timed from A's write
 * call to B's observer seeing the new version. Syncline, the two floors and the peers run side by
 * side, interleaved in rounds so machine noise hits all of them alike. Syncline rows read against
 * the durable floor (what its durability physically costs); the peers, which keep server state in
 * memory, against the raw Socket.IO relay.
 */
import { within } from './cards.js';
import { durableFloorPair } from './durable-floor-pair.js';
import type { PropagationPair } from './pair.js';
import { pouchdbPair } from './peers/pouchdb-pair.js';
import { rxdbPair } from './peers/rxdb-pair.js';
import { socketioPair } from './peers/socketio-pair.js';
import { yjsPair } from './peers/yjs-pair.js';
import type { BenchOptions, BenchRow } from './report.js';
import { summarize } from './stats.js';
import { postgresUrl, redisUrl } from './postgres.js';
import { synclineClusterPair, synclinePair } from './syncline-pair.js';

interface Contender {
  readonly make: () => Promise<PropagationPair>;
  /** Share of the full write count (the cluster variants get fewer to fit the time budget). */
  readonly share: number;
}

const CONTENDERS: readonly Contender[] = [
  synclinePair,
  durableFloorPair,
  socketioPair,
  yjsPair,
  rxdbPair,
  pouchdbPair,
].map((make) => ({ make, share: 1 }));

/** Syncline against the durable floor; the durable floor and the peers against the relay. */
function baselineOf(row: PropagationPair['row']): { baseline?: string } {
  if (row.name === 'floor-socketio') return {};
  return { baseline: row.kind === 'syncline' ? 'floor-durable' : 'floor-socketio' };
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const writes = opts.quick ? 100 : 5_000;
  const warmup = opts.quick ? 10 : 200;
  const rounds = opts.quick ? 2 : 5;
  const ids = 500;
  const pairs: PropagationPair[] = [];
  const shares: number[] = [];
  const contenders = [...CONTENDERS];
  const pg = await postgresUrl('B2 two-node variant');
  if (pg) {
    contenders.push({ make: () => synclineClusterPair(pg), share: 0.1 });
    const redis = redisUrl();
    // Quick mode (CI) proves the cluster path once, over PostgreSQL; Redis runs in full mode.
    if (redis && !opts.quick) contenders.push({ make: () => synclineClusterPair(pg, redis), share: 0.1 });
    else if (!opts.quick) console.log('   B2 two nodes over Redis skipped: SYNCLINE_REDIS_URL is not set');
  }
  try {
    for (const c of contenders) {
      pairs.push(await c.make());
      shares.push(c.share);
    }
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
    for (const [k, pair] of pairs.entries())
      for (let i = 0; i < Math.ceil(warmup * shares[k]!); i++) await step(pair, undefined);
    for (let r = 0; r < rounds; r++) {
      for (const [k, pair] of pairs.entries()) {
        const perRound = Math.ceil((writes * shares[k]!) / rounds);
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
      ...baselineOf(pair.row),
    }));
  } finally {
    await Promise.allSettled(pairs.map((p) => p.close()));
  }
}
