/**
 * `pnpm bench [--quick]`: runs the benchmarks, prints a table and writes JSON to
 * bench/results/latest.json. Speed is reported, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runIngest } from './ingest.js';

const quick = process.argv.includes('--quick');
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: process.platform,
};

const ingest = await runIngest(quick);
const floorOf = (perPush: number) => ingest.find((r) => r.name === `floor-sqlite-${perPush}`);
const rows = ingest.map((r) => {
  const f = floorOf(r.perPush);
  return {
    benchmark: `B3 ingest ${r.name}`,
    'mutations/s': r.mutationsPerSecond,
    'ack p50 ms': r.ackMs.p50,
    'ack p99 ms': r.ackMs.p99,
    'vs floor':
      f && !r.name.startsWith('floor') ? `${(r.mutationsPerSecond / f.mutationsPerSecond).toFixed(2)}×` : '',
  };
});
console.table(rows);

const out = {
  date: new Date().toISOString(),
  quick,
  machine,
  durability: 'sqlite WAL synchronous=FULL',
  ingest,
};
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}latest.json`, `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out));
