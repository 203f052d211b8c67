/**
 * B3 server ingest: a real `syncline-server` process takes pushes from socket.io lanes in this
 * process (each lane one client pushing its outbox in order). (a) 50 mutations per push, 8 in
 * flight; (b) 1 per push, 64 in flight. Peak throughput comes from a closed loop; ack latency is
 * then measured open-loop at half that rate (latency from the scheduled send, so a server that
 * falls behind is charged for the queue). Floors: the same work on raw better-sqlite3 (and raw
 * `pg` for the PostgreSQL variant when the CLI supports it and SYNCLINE_PG_URL is set).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  asMid,
  asScopeId,
  asVersion,
  type Mutation,
  type PushResponse,
} from '@syncline/protocol';
import { sleep } from './cards.js';
import { ingestRecord, pgFloor, sqliteFloor, type FloorResult } from './b3-floors.js';
import { connectRaw } from './peers/socketio-pair.js';
import type { BenchOptions, BenchRow } from './report.js';
import { summarize, type Summary } from './stats.js';
import { dropSchema, pgDurability, postgresUrl, uniqueSchema } from './postgres.js';
import { SQLITE_DURABILITY, synclineServer } from './syncline-server.js';

interface Drive {
  readonly mutations: number;
  readonly mutationsPerSecond: number;
  readonly ackMs: Summary;
}

let runs = 0;

/**
 * Pushes `pushesPerLane` pushes of `perPush` on each of `inFlight` lanes. With `rate`
 * (mutations/s) each lane follows a fixed schedule; without it, it pushes as fast as acks return.
 */
async function drive(
  url: string,
  perPush: number,
  inFlight: number,
  pushesPerLane: number,
  rate?: number,
): Promise<Drive> {
  const run = ++runs;
  const lanes: Socket[] = await Promise.all(
    Array.from({ length: inFlight }, (_, i) =>
      connectRaw(url, { protocolVersion: PROTOCOL_VERSION, clientId: `b3_${process.pid}_${run}_${i}` }),
    ),
  );
  const interval = rate === undefined ? 0 : (inFlight * perPush * 1000) / rate;
  const latencies: number[] = [];
  let committed = 0;
  const started = performance.now();
  try {
    await Promise.all(
      lanes.map(async (socket, lane) => {
        let mid = 0;
        for (let p = 0; p < pushesPerLane; p++) {
          const mutations: Mutation[] = Array.from({ length: perPush }, (_, i) => {
            const n = (lane * pushesPerLane + p) * perPush + i;
            return {
              mid: asMid(++mid),
              scope: asScopeId(`team:${lane % 4}`),
              collection: 'cards',
              // Each lane rewrites its own ids: base 0 on its own earlier writes is never a conflict.
              id: `r${run}l${lane}c${n % 250}`,
              op: 'put',
              base: asVersion(0),
              value: ingestRecord(n),
            };
          });
          // Open loop: lanes start staggered, each on its own fixed schedule.
          const due = started + (lane / inFlight + p) * interval;
          const wait = due - performance.now();
          if (rate !== undefined && wait > 0) await sleep(wait);
          const t0 = rate === undefined ? performance.now() : due;
          const res = (await socket.timeout(30_000).emitWithAck('push', { mutations })) as PushResponse;
          latencies.push(performance.now() - t0);
          if (!res.ok) throw new Error(`B3 push failed: ${res.error.code} ${res.error.message}`);
          const bad = res.results.find((r) => r.status !== 'applied');
          if (bad) throw new Error(`B3 push not applied: ${JSON.stringify(bad)}`);
          committed += res.results.length;
        }
      }),
    );
  } finally {
    for (const s of lanes) s.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    mutations: committed,
    mutationsPerSecond: Math.round(committed / seconds),
    ackMs: summarize(latencies, 0.1),
  };
}

interface Variant {
  readonly storage: 'sqlite' | 'pg';
  readonly url: string;
  readonly floor: (total: number, perTxn: number) => Promise<FloorResult>;
  readonly durability: string;
  readonly floorDurability: string;
}

async function measure(v: Variant, quick: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // The PostgreSQL variant gets smaller sizes, to fit the suite's time budget.
  const scale = v.storage === 'pg' ? (quick ? 0.1 : 0.25) : 1;
  const cases = [
    { perPush: 50, inFlight: 8, total: (quick ? 2_000 : 40_000) * scale },
    { perPush: 1, inFlight: 64, total: (quick ? 640 : 8_000) * scale },
  ];
  const suffix = v.storage === 'pg' ? '-pg' : '';
  for (const c of cases) {
    const tag = `${c.perPush}x${c.inFlight}`;
    const floorName = `floor-${v.storage}-${c.perPush}`;
    // Interleaved: floor, then Syncline at peak, then Syncline at half of that peak.
    const floor = await v.floor(c.total, c.perPush);
    rows.push({
      bench: 'B3',
      name: floorName,
      kind: 'floor',
      label: `raw ${v.storage === 'pg' ? 'pg, batched INSERT … ON CONFLICT' : 'better-sqlite3'}, ${c.perPush} per txn, check+upsert+history`,
      perSecond: floor.mutationsPerSecond,
      extra: { 'txn p50 ms': floor.txnMs.p50, 'txn p99 ms': floor.txnMs.p99 },
      durability: v.floorDurability,
    });
    const peak = await drive(v.url, c.perPush, c.inFlight, Math.ceil(c.total / c.perPush / c.inFlight));
    rows.push({
      bench: 'B3',
      name: `syncline-${tag}${suffix}`,
      kind: 'syncline',
      label: `peak: ${c.perPush} mutation(s) per push, ${c.inFlight} pushes in flight, ${peak.mutations} mutations`,
      perSecond: peak.mutationsPerSecond,
      extra: { 'ack p50 ms at peak': peak.ackMs.p50, 'ack p99 ms at peak': peak.ackMs.p99 },
      baseline: floorName,
      durability: v.durability,
    });
    const rate = peak.mutationsPerSecond / 2;
    const seconds = (quick ? 1 : 5) * scale;
    const pushesPerLane = Math.max(2, Math.ceil((rate * seconds) / c.perPush / c.inFlight));
    const half = await drive(v.url, c.perPush, c.inFlight, pushesPerLane, rate);
    rows.push({
      bench: 'B3',
      name: `syncline-${tag}-half${suffix}`,
      kind: 'syncline',
      label: `ack latency at half of peak (${Math.round(rate)} mutations/s offered, open loop)`,
      latencyMs: half.ackMs,
      perSecond: half.mutationsPerSecond,
      durability: v.durability,
    });
  }
  return rows;
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-b3-'));
  const rows: BenchRow[] = [];
  try {
    const server = await synclineServer();
    try {
      rows.push(
        ...(await measure(
          {
            storage: 'sqlite',
            url: server.url,
            floor: async (total, perTxn) => sqliteFloor(dir, total, perTxn),
            durability: SQLITE_DURABILITY,
            floorDurability: 'SQLite WAL, synchronous=FULL',
          },
          opts.quick,
        )),
      );
    } finally {
      await server.stop();
    }
    const pgUrl = await postgresUrl('B3 PostgreSQL variant');
    if (pgUrl) {
      const schema = uniqueSchema(pgUrl);
      const durability = await pgDurability(pgUrl);
      const pgServer = await synclineServer({}, { postgres: pgUrl, schema });
      try {
        rows.push(
          ...(await measure(
            {
              storage: 'pg',
              url: pgServer.url,
              floor: (total, perTxn) => pgFloor(pgUrl, total, perTxn),
              durability: `server: ${durability}`,
              floorDurability: durability,
            },
            opts.quick,
          )),
        );
      } finally {
        await pgServer.stop();
        await dropSchema(pgUrl, schema);
      }
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
