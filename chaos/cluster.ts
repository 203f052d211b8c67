import { mulberry32, type ServerProcess } from '@syncline/test-support';
import { dropSchema, testSchema } from '@syncline/test-support/databases';
import { spawnNode, untilReadyz } from '../test/integration/helpers/cluster-nodes.js';
import { startPrivatePostgres, type PrivatePostgres } from '../test/integration/helpers/private-postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../test/integration/helpers/private-redis.js';
import { replicasEqualServer, storageChecks } from './checks.js';
import { result, type RunContext, type RunResult, type Scenario } from './scenario.js';
import { postgresDb } from './server-db.js';
import { kill, READY_MS } from './server-kill.js';
import { Workload } from './workload.js';

type Fault = 'node-kill' | 'postgres-restart' | 'redis-restart';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A private PostgreSQL takes seconds to create: one serves every run of the process (each run
// has its own schema on it) and is removed when the scenario's runs are over.
let privatePg: Promise<PrivatePostgres> | undefined;

/**
 * Three `syncline-server` nodes on one PostgreSQL schema, six devices (two per node, each
 * knowing every node in its own order) writing, and one fault while they write:
 * - `node-kill`: a node SIGKILLed with its sockets live (its devices fail over), restarted or not;
 * - `postgres-restart`: the (private) PostgreSQL crashed (`pg_ctl -m immediate`) and restarted
 *   after 0.5–3 s, once or twice;
 * - `redis-restart`: the fan-out's (private) Redis SIGKILLed and restarted after 0.5–3 s.
 */
async function clusterRun(fault: Fault, seed: number, ctx: RunContext): Promise<RunResult> {
  const rnd = mulberry32(seed ^ 0xc1a5);
  let pgUrl = ctx.pgUrl!;
  let pg: PrivatePostgres | undefined;
  let redis: PrivateRedis | undefined;
  if (fault === 'postgres-restart') {
    pg = await (privatePg ??= startPrivatePostgres());
    pgUrl = pg.url;
  }
  if (fault === 'redis-restart') {
    const r = await startPrivateRedis();
    redis = r;
    ctx.defer(() => r.destroy());
  }
  const schema = testSchema('chaos');
  const db = postgresDb(pgUrl, schema);
  ctx.defer(() => dropSchema(pgUrl, schema).catch(() => undefined));
  ctx.defer(() => db.close());
  const opts = { pgUrl, schema, readyTimeoutMs: READY_MS, ...(redis ? { redisUrl: redis.url } : {}) };
  const nodes: ServerProcess[] = [await spawnNode(opts)];
  ctx.defer(() => Promise.all(nodes.map(kill)));
  nodes.push(...(await Promise.all([spawnNode(opts), spawnNode(opts)])));
  await Promise.all(nodes.map((n) => untilReadyz(n, 200, READY_MS)));
  const urls = nodes.map((n) => n.url);

  const work = new Workload({ seed, urls, devices: 6, opsPerDevice: 12, thinkMs: 80 });
  ctx.defer(() => work.close());
  await work.start();

  let done = false;
  let what = '';
  const faults = (async () => {
    await sleep(200 + rnd() * 800);
    if (fault === 'node-kill') {
      const i = Math.floor(rnd() * nodes.length);
      await kill(nodes[i]!);
      what = `node ${i} killed`;
      if (rnd() < 0.5) {
        await sleep(500 + rnd() * 1500);
        nodes[i] = await spawnNode(opts);
        what += ', restarted on a new port';
      }
    } else {
      const times = 1 + Math.floor(rnd() * 2);
      for (let k = 0; k < times; k++) {
        const down = 500 + rnd() * 2500;
        if (pg) {
          await pg.crash();
          await sleep(down);
          await pg.start();
        } else {
          await redis!.kill();
          await sleep(down);
          await redis!.start();
        }
        await sleep(300 + rnd() * 700);
      }
      what = `${fault === 'postgres-restart' ? 'PostgreSQL' : 'Redis'} down ${times}×`;
    }
    // Writes go on for a while after the fault, into the healed (or shrunk) cluster.
    await sleep(300 + rnd() * 700);
    done = true;
  })().catch((err: unknown) => {
    done = true;
    throw err;
  });
  await work.write(() => !done);
  await faults;

  const replicas = await replicasEqualServer(work.devices, work.expected.scopes, 60_000);
  const checks = [...(await storageChecks(db, work.expected)), replicas];
  return result(checks, `${what}; 3 nodes, 6 devices, ${work.writes} writes`);
}

const finishPrivatePg = async () => {
  const p = privatePg;
  privatePg = undefined;
  await (await p?.catch(() => undefined))?.destroy();
};

export const nodeKill: Scenario = {
  name: 'node-kill',
  description: 'one of three nodes SIGKILLed with live sockets; its devices fail over',
  needs: ['postgres'],
  quickRuns: 1,
  longWeight: 2,
  timeoutMs: 150_000,
  run: (seed, ctx) => clusterRun('node-kill', seed, ctx),
};

export const postgresRestart: Scenario = {
  name: 'postgres-restart',
  description: 'PostgreSQL crashed and restarted under three nodes',
  needs: ['postgres'],
  quickRuns: 1,
  longWeight: 2,
  timeoutMs: 150_000,
  run: (seed, ctx) => clusterRun('postgres-restart', seed, ctx),
  finish: finishPrivatePg,
};

export const redisRestart: Scenario = {
  name: 'redis-restart',
  description: 'Redis (the fan-out) killed and restarted under three nodes',
  needs: ['postgres', 'redis'],
  quickRuns: 1,
  // A node that committed while down, reconnecting after the others had caught up, left their
  // devices one change behind (fixed: startCatchUp announces those scopes to every node).
  regressionSeeds: [300005, 300010],
  longWeight: 2,
  timeoutMs: 150_000,
  run: (seed, ctx) => clusterRun('redis-restart', seed, ctx),
};
