import { afterAll, describe, expect, it } from 'vitest';
import { eventually, mulberry32, runSeed, type ServerProcess } from '@syncline/test-support';
import { alive, killAll, logEntries, readyz, spawnNode, untilReadyz } from '../helpers/cluster-nodes.js';
import { PG_URL, query } from '@syncline/test-support/databases';
import { TestClient } from '@syncline/test-support/server';
import { clusterDevice, rotate } from '../helpers/cluster-devices.js';
import { converged, settled, until, type Device } from '@syncline/test-support/devices';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';

const SCOPES = ['board:1', 'board:2'];
const DEVICES = 6;
const OUTBOX = '_syncline_outbox';

type Phase = 'before' | 'down' | 'after';

let pg: PrivatePostgres | undefined;
const nodes: ServerProcess[] = [];
const devices: Device[] = [];
const probes: TestClient[] = [];
afterAll(async () => {
  for (const p of probes.splice(0)) p.close();
  await Promise.allSettled(devices.splice(0).map((d) => d.sync.close()));
  await killAll(nodes);
  await pg?.destroy();
}, 60_000);

// The database is a private PostgreSQL started by this test: the machine's shared one serves
// other test files concurrently and is never stopped. It runs wherever the PostgreSQL tests run.
describe.skipIf(!PG_URL)('PostgreSQL restarted under load', () => {
  it(
    'nodes refuse pushes with storage_unavailable while it is down, then recover without a restart',
    { timeout: 120_000 },
    async () => {
      const seed = runSeed();
      console.log(`cluster-pg-restart.test: SYNCLINE_SEED=${seed}`);
      const rnd = mulberry32(seed);
      pg = await startPrivatePostgres();
      const url = pg.url;
      nodes.push(await spawnNode({ pgUrl: url, schema: 'syncline' }));
      nodes.push(await spawnNode({ pgUrl: url, schema: 'syncline' }));
      await Promise.all(nodes.map((n) => untilReadyz(n, 200)));
      const pids = nodes.map((n) => n.proc.pid);
      const urls = nodes.map((n) => n.url);

      for (let i = 0; i < DEVICES; i++) {
        devices.push(
          clusterDevice(rotate(urls, i % nodes.length), SCOPES, {
            name: `pg-restart-${process.pid}-${seed}-${i}`,
            random: mulberry32(seed + 1 + i),
          }),
        );
      }
      await Promise.all(devices.map((d) => d.sync.start()));
      await devices[0]!.db.cards.bulkPut([
        { id: 'ctr-1', board: '1', title: 'counter' },
        { id: 'ctr-2', board: '2', title: 'counter' },
      ]);
      for (const d of devices) for (const s of SCOPES) await converged(d, s, 30_000);
      // A raw protocol client on node 0, connected before the outage, to see exact answers.
      const probe = await TestClient.connect(urls[0]!);
      probes.push(probe);

      // Load: every device writes journal cards and increments its counter field until told to stop.
      let phase: Phase = 'before';
      let writing = true;
      const written = devices.map(() => new Map<string, Phase>());
      const incs = devices.map(
        () =>
          new Map<string, number>([
            ['1', 0],
            ['2', 0],
          ]),
      );
      const count = (i: number, p: Phase) => [...written[i]!.values()].filter((w) => w === p).length;
      const writers = devices.map(async (d, i) => {
        for (let k = 0; writing; k++) {
          await new Promise((r) => setTimeout(r, 20 + Math.floor(rnd() * 40)));
          const board = rnd() < 0.5 ? '1' : '2';
          const at = phase;
          if (rnd() < 0.4) {
            await d.sync.inc('cards', `ctr-${board}`, `n${i}`, 1);
            incs[i]!.set(board, incs[i]!.get(board)! + 1);
          } else {
            const id = `w-${i}-${k}`;
            await d.db.cards.put({ id, board, title: `${at} ${k}` });
            written[i]!.set(id, at);
          }
        }
      });
      await eventually(() => devices.every((_, i) => count(i, 'before') >= 3), 'load never started', 30_000);

      // Down, like a crash: connections are cut, nothing is checkpointed.
      await pg.crash();
      phase = 'down';
      await Promise.all(nodes.map((n) => untilReadyz(n, 503)));
      for (const n of nodes) {
        const report = await readyz(n);
        expect(report.body).toMatchObject({
          status: 'unhealthy',
          storage: { kind: 'postgres', ok: false },
          checks: { adapter: { ok: false } },
        });
        // Liveness stays up: an orchestrator must not restart nodes for a database outage.
        expect((await fetch(`${n.url}/healthz`)).status).toBe(200);
      }
      const refused = { code: 'storage_unavailable', retryable: true };
      const push = await probe.push(
        probe.mutations({
          scope: 'board:1',
          collection: 'cards',
          id: 'probe',
          op: 'put',
          base: 0,
          value: { id: 'probe' },
        }),
      );
      expect(push).toMatchObject({ ok: false, error: refused });
      expect(await probe.pull('board:1')).toMatchObject({ ok: false, error: refused });
      await expect(TestClient.connect(urls[1]!)).rejects.toMatchObject({ data: refused });
      await eventually(() => devices.every((_, i) => count(i, 'down') >= 2), 'no writes while down', 30_000);
      // Nothing written while the database was down was acknowledged: all of it is still queued.
      for (const [i, d] of devices.entries()) {
        const queued = new Set(
          (await d.db.table<{ mutation: { id: string } }>(OUTBOX).toArray()).map((e) => e.mutation.id),
        );
        for (const [id, p] of written[i]!) if (p === 'down') expect(queued.has(id)).toBe(true);
        expect((await until(d.sync, () => true)).pending).toBeGreaterThan(0);
      }
      expect(nodes.every(alive)).toBe(true);

      // Back: the same processes serve again.
      await pg.start();
      phase = 'after';
      await Promise.all(nodes.map((n) => untilReadyz(n, 200, 30_000)));
      expect((await probe.pull('board:1')).ok).toBe(true);
      await eventually(
        () => devices.every((_, i) => count(i, 'after') >= 2),
        'no writes after the restart',
        30_000,
      );
      writing = false;
      await Promise.all(writers);

      for (const [i, d] of devices.entries()) {
        await until(d.sync, settled, 30_000).catch(async (err: unknown) => {
          // What a failure needs to be understood: the device's state and the nodes' complaints.
          console.log(`device ${i} never settled:`, JSON.stringify(await until(d.sync, () => true)));
          for (const n of nodes) {
            console.log(
              n.lines
                .filter((l) => /"level":"(warn|error)"/.test(l))
                .slice(-10)
                .join('\n'),
            );
          }
          throw err;
        });
      }
      const hashes = new Set<string>();
      for (const d of devices) for (const s of SCOPES) hashes.add(`${s}=${await converged(d, s, 30_000)}`);
      expect(hashes.size).toBe(SCOPES.length); // one hash per scope, shared by every device
      for (const d of devices) {
        expect(await until(d.sync, () => true)).toMatchObject({ pending: 0, rejections: 0, conflicts: 0 });
      }

      // Every write is stored once: journal cards as written, each inc exactly once.
      const records = await query<{ id: string; value: string | null }>(
        url,
        `SELECT id, value FROM syncline.records WHERE collection = 'cards'`,
      );
      const byId = new Map(
        records.map((r) => [
          r.id,
          r.value === null ? null : (JSON.parse(r.value) as Record<string, unknown>),
        ]),
      );
      for (const [i, mine] of written.entries()) {
        for (const [id, p] of mine)
          expect(byId.get(id), `${id} written ${p} by device ${i}`).toMatchObject({ id });
        for (const board of ['1', '2'])
          expect(byId.get(`ctr-${board}`)?.[`n${i}`] ?? 0).toBe(incs[i]!.get(board));
      }
      expect(
        await query(
          url,
          `SELECT client_id, mid FROM syncline.history WHERE client_id IS NOT NULL
            GROUP BY client_id, mid HAVING count(*) > 1`,
        ),
      ).toEqual([]);

      // Same processes, never restarted, and nothing went unhandled.
      expect(nodes.map((n) => n.proc.pid)).toEqual(pids);
      expect(nodes.every(alive)).toBe(true);
      for (const n of nodes) {
        const entries = logEntries(n);
        expect(entries.filter((e) => e.msg === 'unhandled rejection')).toEqual([]);
        expect(entries.some((e) => e.msg === 'fanout connection restored')).toBe(true);
      }
    },
  );
});
