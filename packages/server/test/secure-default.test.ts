import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SynclineConfigError } from '@syncline/protocol';
import { createSyncServer, MemoryStorage, type SyncServer } from '@syncline/server';
import { eventually, runCli, spawnServer, type ServerProcess } from '@syncline/test-support';

// Finding 5: `syncline-server --host 0.0.0.0` with no config used to start in development auth
// mode (everyone accepted, every scope open) and only log a warning.

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const hooks = { authenticate: () => ({ id: 'u' }), authorize: () => true };

let dir: string;
let proc: ServerProcess | undefined;
const servers: SyncServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-secure-'));
});
afterEach(async () => {
  if (proc && proc.proc.exitCode === null && proc.proc.signalCode === null) {
    proc.proc.kill('SIGKILL');
    await proc.exited;
  }
  proc = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const server = (opts: Partial<Parameters<typeof createSyncServer>[0]> = {}) => {
  const s = createSyncServer({ storage: new MemoryStorage(), auth: 'development', logger: silent, ...opts });
  servers.push(s);
  return s;
};

describe('secure by default: the CLI', () => {
  it('refuses to start development auth on 0.0.0.0, naming the flag', async () => {
    const res = await runCli(['--host', '0.0.0.0', '--port', '0', '--db', join(dir, 'a.db')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('invalid_config: auth:');
    expect(res.stderr).toContain('--insecure-dev-auth');
    expect(res.stdout).not.toContain('"msg":"ready"');
  });

  it('starts on 0.0.0.0 with --insecure-dev-auth, and on 127.0.0.1 without it', async () => {
    proc = await spawnServer([
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--db',
      join(dir, 'b.db'),
      '--insecure-dev-auth',
    ]);
    expect((await fetch(`http://127.0.0.1:${proc.port}/healthz`)).status).toBe(200);
    proc.proc.kill('SIGKILL');
    await proc.exited;
    proc = await spawnServer(['--port', '0', '--db', join(dir, 'c.db')]);
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
  });
});

describe('secure by default: createSyncServer', () => {
  it('listen() refuses development auth on a non-loopback address with invalid_config', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const err: unknown = await server()
        .listen(0, host)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(SynclineConfigError);
      expect(err).toMatchObject({ code: 'invalid_config', retryable: false });
      expect((err as Error).message).toContain('allowInsecureDevAuth');
    }
  });

  it('listens on loopback in development auth, anywhere with hooks, and anywhere with the flag', async () => {
    const listened = [
      await server().listen(0, '127.0.0.1'),
      await server().listen(0, 'localhost'),
      await server({ auth: hooks }).listen(0, '0.0.0.0'),
      await server({ allowInsecureDevAuth: true }).listen(0, '0.0.0.0'),
    ];
    for (const { port } of listened) expect(port).toBeGreaterThan(0);
  });

  it('closes an attached httpServer its owner listens on 0.0.0.0 in development auth, logging why', async () => {
    const errors: string[] = [];
    const httpServer = createServer();
    server({ httpServer, logger: { ...silent, error: (msg: string) => errors.push(msg) } });
    await new Promise<void>((done) => httpServer.listen(0, '0.0.0.0', done));
    await eventually(() => !httpServer.listening, 'the attached server closes');
    expect(errors.join()).toContain('non-loopback');

    const allowed = createServer();
    server({ httpServer: allowed, allowInsecureDevAuth: true });
    await new Promise<void>((done) => allowed.listen(0, '0.0.0.0', done));
    expect(allowed.listening).toBe(true);
  });

  it('refuses a non-boolean allowInsecureDevAuth as a config mistake', () => {
    expect(() => server({ allowInsecureDevAuth: 'yes' as never })).toThrow(/allowInsecureDevAuth/);
  });
});
