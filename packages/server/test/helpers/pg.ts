import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL URL for tests (`.ci/run` always sets it); tests that need it skip without it. */
export const PG_URL = process.env['SYNCLINE_PG_URL'];

/** A fresh schema name, so test files running in parallel never share tables. */
export function tempSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}
