/**
 * vitest globalSetup: find the PostgreSQL and Redis the multi-node suites need. An explicit
 * `SYNCLINE_PG_URL` / `SYNCLINE_REDIS_URL` is used as given; otherwise the default local servers
 * (postgres://postgres@127.0.0.1:5432/test, redis://127.0.0.1:6379) are probed and, when they
 * answer, set for the test workers (vitest starts them after this runs, with this env). One
 * plain line says what runs and what is skipped, and why; it is repeated at the end of the run.
 */
import { createRequire } from 'node:module';
import { connect } from 'node:net';

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const PROBE_TIMEOUT_MS = 2000;

/** The part of `pg.Client` used here (pg is a dependency of the server package, not of the root). */
interface PgClient {
  on(event: 'error', listener: () => void): void;
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}

type Probe = { readonly ok: true } | { readonly ok: false; readonly why: string };

/** Sends `send` to 127.0.0.1:`port` and resolves with the first bytes of the answer. */
function talk(
  port: number,
  send: string | undefined,
): Promise<{ ok: true; data: string } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (r: { ok: true; data: string } | { ok: false; why: string }) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () =>
      done({ ok: false, why: `127.0.0.1:${port} did not answer in 2 s` }),
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({
        ok: false,
        why:
          err.code === 'ECONNREFUSED'
            ? `nothing answers on 127.0.0.1:${port}`
            : `127.0.0.1:${port}: ${err.message}`,
      }),
    );
    socket.once('connect', () => (send === undefined ? done({ ok: true, data: '' }) : socket.write(send)));
    socket.once('data', (d) => done({ ok: true, data: d.toString() }));
  });
}

async function probePostgres(): Promise<Probe> {
  const tcp = await talk(5432, undefined);
  if (!tcp.ok) return tcp;
  // Something listens: check that it lets the tests in (user postgres, database test).
  const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
  const { Client } = require('pg') as { Client: new (config: object) => PgClient };
  const client = new Client({ connectionString: DEFAULT_PG_URL, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (err) {
    return {
      ok: false,
      why: `127.0.0.1:5432 answers but refused ${DEFAULT_PG_URL}: ${(err as Error).message}`,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(): Promise<Probe> {
  const r = await talk(6379, 'PING\r\n');
  if (!r.ok) return r;
  return r.data.startsWith('+PONG')
    ? { ok: true }
    : { ok: false, why: `127.0.0.1:6379 answered ${JSON.stringify(r.data.trim().slice(0, 60))} to PING` };
}

let summary = '';

/** Set once the probe has run: vitest runs a globalSetup per project (see vitest.config.ts). */
const DONE = 'SYNCLINE_TEST_GLOBAL_SETUP_DONE';

export default async function setup(): Promise<() => void> {
  // The root and each project run this; the first one probes and prints for all of them.
  if (process.env[DONE] !== undefined) return () => undefined;
  process.env[DONE] = '1';
  const skipped: string[] = [];
  const [pg, redis] = await Promise.all([
    process.env['SYNCLINE_PG_URL'] ? undefined : probePostgres(),
    process.env['SYNCLINE_REDIS_URL'] ? undefined : probeRedis(),
  ]);
  if (pg?.ok) process.env['SYNCLINE_PG_URL'] = DEFAULT_PG_URL;
  else if (pg) skipped.push(`PostgreSQL suites (${pg.why}; set SYNCLINE_PG_URL)`);
  if (redis?.ok) process.env['SYNCLINE_REDIS_URL'] = DEFAULT_REDIS_URL;
  else if (redis) skipped.push(`Redis suites (${redis.why}; set SYNCLINE_REDIS_URL)`);
  summary =
    skipped.length === 0
      ? `syncline: nothing skipped (PostgreSQL ${redactUrl(process.env['SYNCLINE_PG_URL'])}, Redis ${process.env['SYNCLINE_REDIS_URL']})`
      : `syncline: skipped: ${skipped.join('; ')}`;
  process.stdout.write(`${summary}\n`);
  return () => process.stdout.write(`${summary}\n`);
}

function redactUrl(url: string | undefined): string {
  if (url === undefined) return '';
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable url>';
  }
}
