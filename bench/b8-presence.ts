/**
 * B8 presence latency across nodes: `setPresence` on a SyncClient connected to node 1 until
 * `presence$` on a SyncClient connected to node 2 shows the new state (two `syncline-server`
 * processes on one PostgreSQL schema, fan-out through PostgreSQL LISTEN/NOTIFY, and Redis Streams
 * when `SYNCLINE_REDIS_URL` is set). Updates are spaced 150 ms apart: the client sends at most one
 * presence round per 120 ms (the server's budget is 10 a second), so every sample measures a
 * send that left at once. Presence is memory only: no storage write is on this path.
 */
import { filter, firstValueFrom } from 'rxjs';
import { SCOPE, within } from './cards.js';
import { dropSchema, postgresUrl, redisUrl, uniqueSchema } from './postgres.js';
import type { BenchOptions, BenchRow } from './report.js';
import { summarize } from './stats.js';
import { device, settled, until } from './syncline-device.js';
import { synclineServer, type SynclineServer } from './syncline-server.js';

const SPACING_MS = 150;

async function measure(
  pg: string,
  redis: string | undefined,
  samples: number,
  warmup: number,
): Promise<BenchRow> {
  const schema = uniqueSchema(pg);
  const nodes: SynclineServer[] = [];
  try {
    // One after the other: the first node creates and migrates the schema.
    for (let i = 0; i < 2; i++)
      nodes.push(await synclineServer({}, { postgres: pg, schema, ...(redis ? { redis } : {}) }));
    const [a, b] = await Promise.all([device(nodes[0]!.url), device(nodes[1]!.url)]);
    try {
      await Promise.all([until(a, settled, 20_000, 'A live'), until(b, settled, 20_000, 'B live')]);
      // B watches the whole time, as a UI would (the per-sample observers below share it).
      const watching = b.sync.presence$(SCOPE).subscribe();
      const times: number[] = [];
      for (let i = 0; i < warmup + samples; i++) {
        const state = { seq: i };
        const seen = firstValueFrom(
          b.sync
            .presence$(SCOPE)
            .pipe(filter((ms) => ms.some((m) => !m.self && (m.state as { seq?: number }).seq === i))),
        );
        const started = performance.now();
        a.sync.setPresence(SCOPE, state);
        await within(seen, 10_000, `B8: B never saw presence ${i}`);
        times.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, SPACING_MS));
      }
      watching.unsubscribe();
      const adapter = redis ? 'redis' : 'pg';
      return {
        bench: 'B8',
        name: `syncline-presence-2nodes-${adapter}`,
        kind: 'syncline',
        label: `setPresence on SyncClient A → node 1 → ${redis ? 'Redis Streams' : 'PostgreSQL LISTEN/NOTIFY'} → node 2 → presence$ on SyncClient B (Node)`,
        latencyMs: summarize(times, warmup / (warmup + samples)),
        durability: 'none (presence is memory only)',
      };
    } finally {
      await Promise.allSettled([a.close(), b.close()]);
    }
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await dropSchema(pg, schema);
  }
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const pg = await postgresUrl('B8 presence across two nodes');
  if (!pg) return [];
  const samples = opts.quick ? 40 : 1_000;
  const warmup = opts.quick ? 5 : 50;
  const rows = [await measure(pg, undefined, samples, warmup)];
  const redis = redisUrl();
  if (redis) rows.push(await measure(pg, redis, samples, warmup));
  else console.log('   B8 over Redis skipped: SYNCLINE_REDIS_URL is not set');
  return rows;
}
