import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  mulberry32,
  spawnServer,
  startFaultProxy,
  type Direction,
  type FaultProxy,
} from '@syncline/test-support';
import { replicasEqualServer, storageChecks } from './checks.js';
import { result, type RunContext, type RunResult, type Scenario } from './scenario.js';
import { kill, READY_MS } from './server-kill.js';
import { sqliteDb } from './server-db.js';
import { Workload } from './workload.js';

const KINDS = ['drop', 'delay', 'duplicate', 'cut', 'mixed'] as const;

/**
 * Three devices, each behind its own fault proxy to one server (SQLite): a seeded series of
 * episodes, each one fault in one direction of one link for 0.5–2.5 s: frames dropped, delayed
 * (up to 800 ms, order kept), duplicated, a half-open cut (one direction swallowed, the other
 * flowing), or all of drop, delay and duplicate at once. Every episode ends healed; a cut link
 * is then closed, as a dead link ends.
 */
async function proxyRun(seed: number, ctx: RunContext): Promise<RunResult> {
  const rnd = mulberry32(seed ^ 0xfa017);
  const dir = mkdtempSync(join(tmpdir(), 'syncline-chaos-'));
  ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sync.db');
  const node = await spawnServer(
    ['--port', '0', '--db', file, '--log-level', 'info'],
    {},
    { readyTimeoutMs: READY_MS },
  );
  ctx.defer(() => kill(node));
  const proxies: FaultProxy[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await startFaultProxy(node.url, mulberry32(seed + 100 + i));
    proxies.push(p);
    ctx.defer(() => p.close());
  }
  const work = new Workload({
    seed,
    urls: [node.url],
    urlsOf: (i) => [proxies[i]!.url],
    devices: 3,
    opsPerDevice: 20,
    thinkMs: 60,
  });
  ctx.defer(() => work.close());
  await work.start();

  const planned = 3 + Math.floor(rnd() * 4);
  const seen: string[] = [];
  let episodes = 0;
  let broken = false;
  const faults = (async () => {
    while (episodes < planned) {
      const p = proxies[Math.floor(rnd() * proxies.length)]!;
      const direction: Direction = rnd() < 0.5 ? 'up' : 'down';
      const kind = KINDS[Math.floor(rnd() * KINDS.length)]!;
      if (kind === 'drop') p.set(direction, { drop: 0.05 + rnd() * 0.3 });
      else if (kind === 'delay') p.set(direction, { delayMs: 800 });
      else if (kind === 'duplicate') p.set(direction, { duplicate: 0.2 + rnd() * 0.5 });
      else if (kind === 'cut') p.cut(direction);
      else p.set(direction, { drop: 0.1, delayMs: 400, duplicate: 0.3 });
      seen.push(`${kind}-${direction}`);
      await new Promise((r) => setTimeout(r, 500 + rnd() * 2000));
      p.heal();
      episodes++;
    }
  })().catch((err: unknown) => {
    broken = true;
    throw err;
  });
  await work.write(() => episodes < planned && !broken);
  await faults;

  const replicas = await replicasEqualServer(work.devices, work.expected.scopes, 45_000);
  const db = sqliteDb(file);
  ctx.defer(() => db.close());
  const checks = [...(await storageChecks(db, work.expected)), replicas];
  const s = proxies.reduce(
    (a, p) => ({ d: a.d + p.stats.dropped, u: a.u + p.stats.duplicated, l: a.l + p.stats.delayed }),
    { d: 0, u: 0, l: 0 },
  );
  return result(
    checks,
    `${seen.join(',')}; frames dropped ${s.d}, duplicated ${s.u}, delayed ${s.l}; ${work.writes} writes`,
  );
}

export const faultProxy: Scenario = {
  name: 'fault-proxy',
  description: 'frames dropped, delayed, duplicated and links cut half-open, either direction',
  needs: [],
  quickRuns: 2,
  // A lost CONNECT left a device 'connecting' for ever (fixed: connectSocket's deadline).
  regressionSeeds: [287704735],
  longWeight: 4,
  timeoutMs: 150_000,
  run: proxyRun,
};
