/**
 * `pnpm bench [--quick] [--only B2,B4]`: runs every benchmark module in order, each under a hard
 * timeout, prints one table and writes bench/results/latest.json plus one JSON per benchmark.
 * Speed is reported, never asserted; a wrong result, a crash or a timeout fails the run (exit 1)
 * after everything else has run.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as b2 from './b2-propagation.js';
import * as b3 from './b3-ingest.js';
import * as b4 from './b4-fanout.js';
import * as b5 from './b5-catch-up.js';
import * as b7 from './b7-conflicts.js';
import * as b8 from './b8-presence.js';
import * as b9 from './b9-sinks.js';
import { machineInfo, suiteVersions } from './machine.js';
import { dropLeftoverSchemas } from './postgres.js';
import { killAll } from './processes.js';
import type { BenchOptions, BenchRow } from './report.js';
import { markdownTable } from './table.js';

type BenchModule = { run(opts: BenchOptions): Promise<BenchRow[]> };

interface Entry {
  readonly id: string;
  readonly title: string;
  /** A module, or a file under bench/ that may not exist yet (the browser benchmarks). */
  readonly module: BenchModule | string;
  /** Hard limits; a full run is expected to take well under them. */
  readonly timeoutMs: { readonly quick: number; readonly full: number };
}

const ENTRIES: readonly Entry[] = [
  {
    id: 'B1',
    title: 'local write → live query (Chromium)',
    module: 'browser/b1-local-write.ts',
    timeoutMs: { quick: 45_000, full: 90_000 },
  },
  {
    id: 'B2',
    title: 'propagation A → server → B (Node)',
    module: b2,
    // Full: 167 s without the cluster variants at load 10 once the durable floor joined.
    timeoutMs: { quick: 90_000, full: 300_000 },
  },
  {
    id: 'B2',
    title: 'propagation between two Chromium pages',
    module: 'browser/b2-pages.ts',
    timeoutMs: { quick: 45_000, full: 120_000 },
  },
  { id: 'B3', title: 'server ingest', module: b3, timeoutMs: { quick: 90_000, full: 180_000 } },
  { id: 'B4', title: 'fan-out', module: b4, timeoutMs: { quick: 45_000, full: 180_000 } },
  {
    id: 'B5',
    title: 'offline catch-up',
    module: b5,
    timeoutMs: { quick: 45_000, full: 120_000 },
  },
  {
    id: 'B6',
    title: 'cold bootstrap (Chromium)',
    module: 'browser/b6-cold-bootstrap.ts',
    // The 100k run (opt-in) takes minutes on its own.
    timeoutMs: { quick: 45_000, full: process.env['SYNCLINE_BENCH_B6_100K'] === '1' ? 900_000 : 120_000 },
  },
  {
    id: 'B7',
    title: 'conflict path',
    module: b7,
    timeoutMs: { quick: 45_000, full: 120_000 },
  },
  {
    id: 'B8',
    title: 'presence across two nodes',
    module: b8,
    timeoutMs: { quick: 60_000, full: 600_000 },
  },
  {
    id: 'B9',
    title: 'broker sinks (RabbitMQ, NATS JetStream)',
    module: b9,
    timeoutMs: { quick: 45_000, full: 180_000 },
  },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a, i) => a.startsWith('--only=') || args[i - 1] === '--only');
const only = onlyArg ? new Set(onlyArg.replace('--only=', '').toUpperCase().split(',')) : undefined;
const opts: BenchOptions = { quick };
const here = fileURLToPath(new URL('./', import.meta.url));

async function load(entry: Entry): Promise<BenchModule | undefined> {
  if (typeof entry.module !== 'string') return entry.module;
  const file = `${here}${entry.module}`;
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as Partial<BenchModule>;
  if (typeof mod.run !== 'function') throw new Error(`${entry.module} exports no run(opts)`);
  return mod as BenchModule;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const started = Date.now();
const loadBefore = machineInfo().loadAverage;
const rows: BenchRow[] = [];
const failures: { bench: string; title: string; error: string }[] = [];
const skipped: string[] = [];
const timings: Record<string, number> = {};
const dir = `${here}results/`;
mkdirSync(dir, { recursive: true });

for (const entry of ENTRIES) {
  if (only && !only.has(entry.id)) continue;
  const what = `${entry.id} ${entry.title}`;
  const t0 = Date.now();
  try {
    const mod = await load(entry);
    if (!mod) {
      const file = typeof entry.module === 'string' ? entry.module : '';
      skipped.push(`${what}: ${file} does not exist yet`);
      console.log(`-- ${what}: skipped (${file} does not exist yet)`);
      continue;
    }
    console.log(`-- ${what}${quick ? ' (quick)' : ''}`);
    const got = await withTimeout(mod.run(opts), quick ? entry.timeoutMs.quick : entry.timeoutMs.full, what);
    rows.push(...got);
    console.log(markdownTable(got));
  } catch (err) {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    failures.push({ bench: entry.id, title: entry.title, error });
    console.error(`!! ${what} FAILED: ${error}`);
  } finally {
    // Whatever a failed or timed-out benchmark left running is stopped by pid here.
    const leftovers = await killAll();
    if (leftovers > 0) console.error(`!! ${what}: stopped ${leftovers} leftover child process(es)`);
    const schemas = await dropLeftoverSchemas();
    if (schemas > 0) console.error(`!! ${what}: dropped ${schemas} leftover PostgreSQL schema(s)`);
    timings[`${entry.id} ${entry.title}`] = Math.round((Date.now() - t0) / 100) / 10;
  }
}

const meta = {
  date: new Date().toISOString(),
  quick,
  only: only ? [...only] : undefined,
  machine: { ...machineInfo(), loadAverageBefore: loadBefore },
  versions: suiteVersions(),
  durability: Object.fromEntries(
    rows.filter((r) => r.durability).map((r) => [`${r.bench} ${r.name}`, r.durability]),
  ),
  secondsPerBenchmark: timings,
  totalSeconds: Math.round((Date.now() - started) / 1000),
};
writeFileSync(`${dir}latest.json`, `${JSON.stringify({ ...meta, rows, failures, skipped }, null, 2)}\n`);
for (const id of new Set(rows.map((r) => r.bench))) {
  const mine = rows.filter((r) => r.bench === id);
  writeFileSync(`${dir}${id}.json`, `${JSON.stringify({ ...meta, rows: mine }, null, 2)}\n`);
}

console.log(`\n## Syncline bench${quick ? ' (quick: sizes too small to mean anything)' : ''}\n`);
console.log(markdownTable(rows));
console.log(
  `\n${meta.date} · ${meta.machine.cpus}× ${meta.machine.cpuModel} · ${meta.machine.memoryGiB} GiB · Node ${meta.machine.node}` +
    ` · load ${loadBefore.join('/')} → ${meta.machine.loadAverage.join('/')} · ${meta.totalSeconds} s`,
);
for (const s of skipped) console.log(`skipped: ${s}`);
console.log(`results: ${dir}latest.json`);
if (failures.length > 0) {
  console.error(`\n${failures.length} benchmark(s) failed: ${failures.map((f) => f.bench).join(', ')}`);
}
// Clients of a timed-out benchmark may still hold sockets open: exit explicitly.
process.exit(failures.length > 0 ? 1 : 0);
