import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import type { Check, Requirement, RunContext, Scenario } from './scenario.js';
import { SCENARIOS } from './scenarios.js';

/**
 * `pnpm chaos [--quick|--long] [--seed N] [--only a,b] [--runs N] [--verbose]`: runs each
 * scenario with seeds `seed, seed+1, …`, prints the seed of every failure (replay one with
 * `--only <name> --seed <seed> --runs 1`) and a summary table; exits 1 on any failure.
 */
const USAGE = `usage: pnpm chaos [--quick|--long] [--seed N] [--only name,...] [--runs N] [--total N] [--verbose]
  --quick    a few runs per scenario (CI; the default)
  --long     --total runs (default 1000) shared among scenarios by weight
  --seed N   first seed (default random); run k of a scenario uses seed N+k
  --only     scenarios by name: ${SCENARIOS.map((s) => s.name).join(', ')}
  --runs N   runs per scenario (overrides the mode)`;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    long: { type: 'boolean', default: false },
    seed: { type: 'string' },
    only: { type: 'string' },
    runs: { type: 'string' },
    total: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const pgUrl = process.env['SYNCLINE_PG_URL'] || undefined;
const redisUrl = process.env['SYNCLINE_REDIS_URL'] || undefined;
const available: Record<Requirement, boolean> = {
  postgres: pgUrl !== undefined,
  redis: redisUrl !== undefined,
  chromium: existsSync('/usr/bin/chromium'),
};
const baseSeed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const only = values.only?.split(',').filter(Boolean);
const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown scenario: ${unknown.join(', ')}\n${USAGE}`);
  process.exit(2);
}
const chosen = SCENARIOS.filter((s) => only === undefined || only.includes(s.name));
const totalWeight = chosen.reduce((a, s) => a + s.longWeight, 0);
const total = Number(values.total ?? 1000);
const runsOf = (s: Scenario) =>
  values.runs !== undefined
    ? Number(values.runs)
    : values.long
      ? Math.ceil((total * s.longWeight) / totalWeight)
      : s.quickRuns;

interface Row {
  scenario: string;
  runs: number;
  failures: number;
  seconds: number;
  skipped?: string;
}

/** The clean-ups of the run in progress, for an interrupt (Ctrl-C, SIGTERM). */
let inProgress: (() => unknown)[] = [];

/** Runs clean-ups newest first, each bounded (a hung one must not keep the rest from running). */
async function cleanUp(cleanups: (() => unknown)[], log: (m: string) => void): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    await Promise.race([
      Promise.resolve()
        .then(c)
        .catch((err: unknown) => log(`clean-up failed: ${String(err)}`)),
      new Promise((r) => setTimeout(r, 20_000)),
    ]);
  }
}

/** One run, bounded by the scenario's timeout; its clean-ups always run. */
async function runOnce(
  s: Scenario,
  seed: number,
): Promise<{ ok: boolean; checks: readonly Check[]; details: string }> {
  const cleanups: (() => unknown)[] = [];
  inProgress = cleanups;
  const ctx: RunContext = {
    pgUrl,
    redisUrl,
    defer: (c) => cleanups.push(c),
    log: (m) => {
      if (values.verbose) console.log(`  [${s.name} seed ${seed}] ${m}`);
    },
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      s.run(seed, ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timeout after ${s.timeoutMs} ms`)), s.timeoutMs);
      }),
    ]);
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return { ok: false, checks: [{ name: 'run completed', ok: false, detail: message }], details: '' };
  } finally {
    clearTimeout(timer);
    await cleanUp(cleanups, (m) => ctx.log(m));
  }
}

// A socket or process error nobody awaited must not end the whole suite; it is logged.
process.on('unhandledRejection', (err) => console.error('unhandled rejection:', err));

// Interrupted: stop what the current run started and what scenarios share (a private
// PostgreSQL runs as its own daemon, which a terminal's Ctrl-C does not reach), then exit.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.log(`\nchaos: ${signal}, cleaning up`);
    void cleanUp(inProgress, (m) => console.error(m))
      .then(() => Promise.all(SCENARIOS.map(async (s) => s.finish?.().catch(() => undefined))))
      .finally(() => process.exit(130));
  });
}

const mode =
  values.runs !== undefined ? `${values.runs} runs each` : values.long ? `long (${total} runs)` : 'quick';
console.log(`chaos: ${mode}, SYNCLINE_CHAOS_SEED=${baseSeed} (replay: --seed ${baseSeed})`);
const rows: Row[] = [];
const failures: string[] = [];
const active: { s: Scenario; row: Row; runs: number; seeds: number[] }[] = [];
for (const s of chosen) {
  const missing = s.needs.filter((r) => !available[r]);
  const row: Row = { scenario: s.name, runs: 0, failures: 0, seconds: 0 };
  rows.push(row);
  if (missing.length > 0) row.skipped = `needs ${missing.join(', ')}`;
  else {
    const runs = runsOf(s);
    const seeds = Array.from({ length: runs }, (_, k) => (baseSeed + k) >>> 0);
    // Quick mode (CI) also replays the seeds that once failed; an explicit --seed/--runs does not.
    const replay = !values.long && values.seed === undefined && values.runs === undefined;
    if (replay) seeds.push(...(s.regressionSeeds ?? []).filter((r) => !seeds.includes(r)));
    active.push({ s, row, runs: seeds.length, seeds });
  }
}
// Round by round (each scenario's run k, then k+1): a long run cut short still covers them all.
const rounds = Math.max(0, ...active.map((a) => a.runs));
for (let k = 0; k < rounds; k++) {
  for (const { s, row, runs, seeds } of active) {
    if (k >= runs) continue;
    const seed = seeds[k]!;
    const t = Date.now();
    const res = await runOnce(s, seed);
    row.runs++;
    row.seconds += (Date.now() - t) / 1000;
    const took = ((Date.now() - t) / 1000).toFixed(1);
    if (res.ok) {
      console.log(`ok   ${s.name} seed ${seed} (${took} s) ${res.details}`);
    } else {
      row.failures++;
      const bad = res.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ''}`);
      failures.push(`${s.name} seed ${seed}`);
      console.log(`FAIL ${s.name} seed ${seed} (${took} s) ${res.details}\n  ${bad.join('\n  ')}`);
      console.log(`  replay: pnpm chaos --only ${s.name} --seed ${seed} --runs 1`);
    }
  }
}
for (const { s } of active)
  await s.finish?.().catch((err: unknown) => console.error(`${s.name}: finish failed:`, err));

const pad = (v: string | number, w: number) => String(v).padEnd(w);
console.log(`\n${pad('scenario', 26)}${pad('runs', 6)}${pad('failures', 10)}seconds`);
for (const r of rows) {
  console.log(
    `${pad(r.scenario, 26)}${pad(r.runs, 6)}${pad(r.failures, 10)}${r.seconds.toFixed(1)}${r.skipped ? `  (skipped: ${r.skipped})` : ''}`,
  );
}
const runs = rows.reduce((a, r) => a + r.runs, 0);
console.log(
  `total: ${runs} runs, ${failures.length} failures, seeds ${baseSeed}..${(baseSeed + Math.max(...rows.map((r) => r.runs), 1) - 1) >>> 0}`,
);
if (failures.length > 0) console.log(`failed: ${failures.join('; ')}`);
process.exit(failures.length > 0 || rows.some((r) => r.skipped !== undefined && only !== undefined) ? 1 : 0);
