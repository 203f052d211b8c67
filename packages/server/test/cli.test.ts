import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from '@syncline/test-support/server';
import { dropSchema, PG_URL, query, testSchema } from '@syncline/test-support/databases';
import { runCli, spawnServer, type ServerProcess } from '@syncline/test-support';

let dir: string;
let proc: ServerProcess | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-cli-'));
});
afterEach(async () => {
  if (proc && proc.proc.exitCode === null && proc.proc.signalCode === null) {
    proc.proc.kill('SIGKILL');
    await proc.exited;
  }
  proc = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('syncline-server CLI', () => {
  it('prints help with --help and exits 0', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('--port');
    expect(res.stdout).toContain('--db');
    expect(res.stdout).toContain('--config');
    for (const flag of ['--postgres', '--pg-pool-size', '--pg-schema', '--redis', 'SYNCLINE_PG_URL']) {
      expect(res.stdout).toContain(flag);
    }
  });

  it('refuses unknown flags and bad values with exit code 2', async () => {
    expect((await runCli(['--nope'])).code).toBe(2);
    const bad = await runCli(['--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid --port');
  });

  it('refuses --redis without PostgreSQL with exit code 2', async () => {
    const res = await runCli(['--redis', 'redis://127.0.0.1:6379']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--redis needs --postgres');
  });

  it('fails fast, with the reason, when PostgreSQL cannot be reached at start', async () => {
    const res = await runCli(['--port', '0', '--postgres', 'postgres://nobody:secret@127.0.0.1:1/none']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ECONNREFUSED');
    expect(res.stderr).not.toContain('secret');
  });

  it('serves /healthz and /readyz, logs JSON lines and warns loudly in development auth mode', async () => {
    proc = await spawnServer(['--port', '0', '--db', join(dir, 'a.db')]);
    const res = await fetch(`${proc.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${proc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', storage: { kind: 'sqlite', ok: true } });
    expect((await fetch(`${proc.url}/nope`)).status).toBe(404);
    const entries = proc.lines.map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(entries.some((e) => e.level === 'warn' && e.msg.includes('DEVELOPMENT AUTH MODE'))).toBe(true);
  });

  it('loads auth and collection strategies from --config', async () => {
    const config = join(dir, 'syncline.config.mjs');
    writeFileSync(
      config,
      `export default {
        auth: {
          authenticate: (h) => (h.token === 'secret' ? { id: 'alice' } : null),
          authorize: (p, scope) => scope === 'user:' + p.id,
        },
        collections: { notes: { strategy: 'manual' } },
      };`,
    );
    proc = await spawnServer(['--port', '0', '--db', join(dir, 'b.db'), '--config', config]);
    expect(proc.lines.some((l) => l.includes('DEVELOPMENT AUTH MODE'))).toBe(false);
    await expect(TestClient.connect(proc.url, { token: 'wrong' })).rejects.toMatchObject({
      data: { code: 'unauthenticated' },
    });
    const c = await TestClient.connect(proc.url, { token: 'secret' });
    const ok = await c.write({
      scope: 'user:alice',
      collection: 'notes',
      id: 'n',
      op: 'put',
      base: 0,
      value: { a: 1 },
    } as never);
    expect(ok[0]?.status).toBe('applied');
    const denied = await c.pull('user:bob');
    expect(!denied.ok && denied.error.code).toBe('forbidden');
    c.close();
  });

  it('refuses a config with unknown options', async () => {
    const config = join(dir, 'bad.config.mjs');
    writeFileSync(config, 'export default { colections: {} };');
    const res = await runCli(['--port', '0', '--db', join(dir, 'c.db'), '--config', config]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("colections: unknown option (did you mean 'collections'?)");
  });

  it("refuses strategy 'lwww' with one line naming the path, no stack trace, and no database created", async () => {
    const config = join(dir, 'lwww.config.mjs');
    writeFileSync(
      config,
      "export default { collections: { cards: { strategy: 'lwww' }, notes: { stratgy: 'lww' } } };",
    );
    const db = join(dir, 'never.db');
    const res = await runCli(['--port', '0', '--db', db, '--config', config]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `syncline-server: invalid_config: ${config}: ` +
        "collections.cards.strategy: expected one of 'merge' | 'lww' | 'manual' | a function, got 'lwww'; " +
        "collections.notes.stratgy: unknown option (did you mean 'strategy'?); allowed: strategy, validate, webhook\n",
    );
    expect(existsSync(db)).toBe(false);
  });

  it('shuts down gracefully on SIGTERM: in-flight pushes are acknowledged and kept', async () => {
    const db = join(dir, 'd.db');
    proc = await spawnServer(['--port', '0', '--db', db]);
    const c = await TestClient.connect(proc.url);
    const pushes = Array.from({ length: 10 }, (_, b) =>
      c.push(
        c.mutations(
          ...Array.from({ length: 20 }, (_, i) => ({
            scope: 'team:t',
            collection: 'notes',
            id: `n${b}-${i}`,
            op: 'put' as const,
            base: 0 as never,
            value: { b, i },
          })),
        ),
      ),
    );
    // Stop while the rest of the pushes are still queued or in flight.
    await pushes[0];
    proc.proc.kill('SIGTERM');
    const settled = await Promise.allSettled(pushes);
    expect(await proc.exited).toBe(0);
    const acked = settled.flatMap((s) => (s.status === 'fulfilled' && s.value.ok ? s.value.results : []));
    expect(acked.length).toBeGreaterThanOrEqual(20);
    // Every push was either acknowledged or explicitly refused/cut off: none vanished silently.
    for (const s of settled) {
      if (s.status === 'fulfilled' && !s.value.ok) expect(s.value.error.code).toBe('shutting_down');
    }
    c.close();

    proc = await spawnServer(['--port', '0', '--db', db]);
    const reader = await TestClient.connect(proc.url);
    const pulled = await reader.pull('team:t', 0, 1000);
    const stored = new Set(pulled.ok ? pulled.changes.map((ch) => ch.mid) : []);
    for (const r of acked) expect(stored.has(r.mid)).toBe(true);
    reader.close();
  });
});

describe.skipIf(!PG_URL)('syncline-server CLI on PostgreSQL', () => {
  it('takes PostgreSQL from SYNCLINE_PG_URL, migrates its schema and fans out through it', async () => {
    const schema = testSchema();
    try {
      proc = await spawnServer(['--port', '0'], { SYNCLINE_PG_URL: PG_URL!, SYNCLINE_PG_SCHEMA: schema });
      const ready = await fetch(`${proc.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        storage: { kind: 'postgres', ok: true },
        checks: { adapter: { ok: true } },
      });
      const entries = proc.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(entries.find((e) => e['msg'] === 'ready')).toMatchObject({ schema, adapter: 'postgres' });
      const versions = await query<{ version: number }>(
        PG_URL!,
        `SELECT version FROM "${schema}".schema_version`,
      );
      expect(versions.length).toBeGreaterThan(0);
    } finally {
      proc?.proc.kill('SIGKILL');
      await proc?.exited;
      await dropSchema(PG_URL!, schema);
    }
  });
});
