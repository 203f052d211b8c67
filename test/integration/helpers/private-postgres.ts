import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@syncline/test-support';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL server of this test's own, for tests that stop and restart the database
 * (the machine's shared one serves other test files at the same time and must never be touched).
 * Trust auth on 127.0.0.1 only, fsync off (fast; a PostgreSQL crash still loses no commit), and
 * nothing outlives the test.
 */
export interface PrivatePostgres {
  readonly url: string;
  readonly port: number;
  /** Stops it like a crash: `pg_ctl stop -m immediate` (connections are cut, no checkpoint). */
  crash(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (if running) and removes its directory. Safe to call more than once. */
  destroy(): Promise<void>;
}

/** The newest installed PostgreSQL's bin directory, or undefined when there is none. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

async function idOf(user: string): Promise<{ uid: number; gid: number }> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run('id', ['-u', user]),
    run('id', ['-g', user]),
  ]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/**
 * initdb refuses to run as root: as root, every PostgreSQL command runs as the `postgres` OS user
 * through `runuser`, in a directory that user owns.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'syncline-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (asRoot) {
    const { uid, gid } = await idOf('postgres');
    chownSync(dir, uid, gid);
  }
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { timeout: 60_000 })
      : run(join(bin, tool), args, { timeout: 60_000 });

  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${dir}'`,
    // Only an OS crash loses data without fsync; this test crashes PostgreSQL alone. Commits
    // stay synchronous: with synchronous_commit=off a crash would lose acknowledged writes.
    '-c fsync=off',
    '-c max_connections=200',
  ].join(' ');
  const start = async () => {
    try {
      await pg('pg_ctl', ['-D', data, '-l', log, '-o', serverOptions, '-w', '-t', '30', 'start']);
    } catch (err) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
      throw new Error(`private PostgreSQL did not start: ${(err as Error).message}\n${tail}`);
    }
  };
  const stop = (mode: 'immediate' | 'fast') => pg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
  try {
    await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await start();
  } catch (err) {
    await stop('immediate').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    crash: async () => {
      await stop('immediate');
    },
    start,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      // Not running (already crashed) is fine: pg_ctl then fails, and there is nothing to stop.
      await stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
