import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asClientId, asScopeId, asVersion } from '@syncline/protocol';
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../src/storage/sqlite-schema.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/sqlite-commit-and-wait.ts', import.meta.url));
const S = asScopeId('team:acme');
const CLIENT = asClientId('client-0001');

describe('SqliteStorage', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'syncline-sqlite-'));
    file = join(dir, 'sync.db');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const put = (storage: SqliteStorage, id: string, value: { n: number } | null, time: number) =>
    storage.transaction(async (tx) => {
      const version = await tx.nextVersion(S);
      await tx.putRecord({
        scope: S,
        collection: 'todos',
        id,
        version,
        value,
        clientId: CLIENT,
        mid: null,
        updatedAt: time,
      });
      await tx.appendHistory({
        scope: S,
        collection: 'todos',
        id,
        version,
        prevVersion: asVersion(0),
        op: value ? 'put' : 'delete',
        value,
        clientId: CLIENT,
        mid: null,
        userId: 'u1',
        serverTime: time,
        conflict: null,
        restoredFrom: null,
      });
      return version;
    });

  it('keeps records, history, clients, head and horizon across close and reopen', async () => {
    const first = new SqliteStorage({ path: file });
    await put(first, 'a', { n: 1 }, 1);
    await put(first, 'b', { n: 1 }, 1);
    await put(first, 'b', null, 2);
    await put(first, 'c', { n: 3 }, 1_000);
    await first.transaction((tx) => tx.putClient({ clientId: CLIENT, userId: 'alice', lastMid: 2 }));
    expect(await first.prune({ maxAgeMs: 10 }, 100)).toEqual({
      historyRemoved: 2,
      tombstonesRemoved: 1,
      clientsRemoved: 0,
    });
    const before = await first.pull(S, asVersion(0), 100);
    await first.close();
    await expect(first.head(S)).rejects.toThrow(/closed/);

    const second = await SqliteStorage.open({ path: file });
    try {
      const after = await second.pull(S, asVersion(0), 100);
      expect(after).toEqual(before);
      expect(after).toMatchObject({ head: 4, horizon: 3 });
      expect(after.records.map((r) => r.id)).toEqual(['a', 'c']);
      expect((await second.history(S, 'todos', 'c', { limit: 5 }))[0]?.value).toEqual({ n: 3 });
      expect(await second.bindClient(CLIENT, 'mallory')).toEqual({
        clientId: CLIENT,
        userId: 'alice',
        lastMid: 2,
      });
      expect(await put(second, 'd', { n: 4 }, 5)).toBe(5);
    } finally {
      await second.close();
    }
  });

  it('upgrades a schema-1 file in place: the change feed index is added, the data kept', async () => {
    const old = new Database(file);
    migrate(old, MIGRATIONS.slice(0, 1));
    old.close();
    const storage = new SqliteStorage({ path: file });
    try {
      await put(storage, 'a', { n: 1 }, 1);
      await put(storage, 'b', { n: 2 }, 1);
      const page = await storage.scopeHistory(S, asVersion(0), 10);
      expect(page.entries.map((e) => `${e.id}@${e.version}`)).toEqual(['a@1', 'b@2']);
    } finally {
      await storage.close();
    }
    const raw = new Database(file);
    try {
      expect(raw.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({
        v: SCHEMA_VERSION,
      });
      const plan = raw
        .prepare(
          'EXPLAIN QUERY PLAN SELECT * FROM history WHERE scope = ? AND version > ? ORDER BY version LIMIT 5',
        )
        .all('team:acme', 0) as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toContain('history_scope_version');
    } finally {
      raw.close();
    }
  });

  it('runs in WAL mode and records its schema version once', async () => {
    const storage = new SqliteStorage({ path: file, synchronous: 'NORMAL' });
    await put(storage, 'a', { n: 1 }, 1);
    expect(existsSync(`${file}-wal`)).toBe(true);
    await storage.close();
    await new SqliteStorage({ path: file }).close();

    const raw = new Database(file);
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      // Each migration is recorded once, however often the file is opened.
      expect(raw.prepare('SELECT version FROM schema_version ORDER BY version').all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version })),
      );
      // A file written by a newer server is refused rather than misread.
      raw.prepare('INSERT INTO schema_version VALUES (?, ?)').run(SCHEMA_VERSION + 1, 0);
    } finally {
      raw.close();
    }
    expect(() => new SqliteStorage({ path: file })).toThrow(/newer/);
  });

  it('keeps every acknowledged commit when the process is killed with SIGKILL', async () => {
    const N = 40;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=syncline-source', FIXTURE, file, String(N)],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          // Killed the moment it reports: no close(), no checkpoint, nothing flushed on the way out.
          if (out.includes('committed')) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
      });
    } finally {
      // Never leave the child running if the test fails or times out.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    // The commits are still in the WAL, not yet checkpointed into the main file.
    expect(existsSync(`${file}-wal`)).toBe(true);

    const storage = new SqliteStorage({ path: file });
    try {
      const scope = asScopeId('crash:test');
      const page = await storage.pull(scope, asVersion(0), 1000);
      expect(page.head).toBe(N);
      expect(page.records.map((r) => r.value)).toEqual(Array.from({ length: N }, (_, i) => ({ i: i + 1 })));
      expect((await storage.history(scope, 'items', `r${N}`, { limit: 1 }))[0]?.version).toBe(N);
      expect((await storage.bindClient(asClientId('crash-client'), 'u1')).lastMid).toBe(N);
    } finally {
      await storage.close();
    }
  });
});
