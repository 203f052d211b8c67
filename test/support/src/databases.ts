import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createClient } from 'redis';

/**
 * The machine's PostgreSQL and Redis for tests: `SYNCLINE_PG_URL` / `SYNCLINE_REDIS_URL`, which
 * `.ci/run` and the vitest globalSetup set when the servers answer. Unset (or empty) means skip.
 */
export const PG_URL = process.env['SYNCLINE_PG_URL'] || undefined;
export const REDIS_URL = process.env['SYNCLINE_REDIS_URL'] || undefined;
/**
 * The machine's RabbitMQ and NATS (JetStream on) for the broker-sink tests: `SYNCLINE_AMQP_URL`
 * / `SYNCLINE_NATS_URL` (`.ci/run` starts both and sets them), else the local defaults. Tests use
 * an exchange / stream / subject prefix of their own (`testSchema()`) and delete it at the end.
 */
export const AMQP_URL = process.env['SYNCLINE_AMQP_URL'] || 'amqp://guest:guest@127.0.0.1:5672';
export const NATS_URL = process.env['SYNCLINE_NATS_URL'] || 'nats://127.0.0.1:4222';

/**
 * A schema name of this test's own (`<prefix>_<random hex>`), so test files running side by side
 * on one database never share tables; channel and stream names derive from it.
 */
export function testSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops a test's schema and everything in it (the name is quoted, so any name is safe). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one query on a fresh connection. */
export async function query<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Deletes a test's Redis key (its fan-out stream); best effort: a Redis that is gone is skipped. */
export async function deleteRedisKey(url: string, key: string): Promise<void> {
  const redis = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.del(key);
    await redis.close();
  } catch {
    redis.destroy();
  }
}
