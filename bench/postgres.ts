/**
 * The PostgreSQL variants (B2 two nodes, B3 ingest) run when SYNCLINE_PG_URL is set and the
 * `syncline-server` CLI takes `--postgres`; each run uses its own schema, dropped afterwards.
 */
import { runCli } from '@syncline/test-support';
import { loadPg } from './peers/untyped.js';

let cliHasPostgres: boolean | undefined;
let schemas = 0;
/** Schemas created and not dropped yet, with their URL: the runner drops them after a timeout. */
const created = new Map<string, string>();

/** The PostgreSQL URL to use, or undefined after printing why the variant is skipped. */
export async function postgresUrl(what: string): Promise<string | undefined> {
  const url = process.env['SYNCLINE_PG_URL'];
  if (!url) {
    console.log(`   ${what} skipped: SYNCLINE_PG_URL is not set`);
    return undefined;
  }
  cliHasPostgres ??= (await runCli(['--help'])).stdout.includes('--postgres');
  if (!cliHasPostgres) {
    console.log(`   ${what} skipped: syncline-server has no --postgres flag yet`);
    return undefined;
  }
  return url;
}

export const redisUrl = (): string | undefined => process.env['SYNCLINE_REDIS_URL'] || undefined;

/** A fresh schema name on `url`, remembered until `dropSchema`. */
export function uniqueSchema(url: string, prefix = 'bench'): string {
  const schema = `${prefix}_${process.pid}_${++schemas}`;
  created.set(schema, url);
  return schema;
}

/** Drops every schema a benchmark created and did not drop (it timed out or crashed). */
export async function dropLeftoverSchemas(): Promise<number> {
  const left = [...created];
  for (const [schema, url] of left) await dropSchema(url, schema).catch(() => undefined);
  return left.length;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  created.delete(schema);
  const { Client } = loadPg();
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pg.end();
  }
}

/** synchronous_commit of the server: what a PostgreSQL commit waits for. */
export async function pgDurability(url: string): Promise<string> {
  const { Client } = loadPg();
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const { rows } = await pg.query('SHOW synchronous_commit');
    return `PostgreSQL, synchronous_commit=${String(rows[0]?.['synchronous_commit'])}`;
  } finally {
    await pg.end();
  }
}
