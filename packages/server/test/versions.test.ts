import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangesMessage } from '@syncline/protocol';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import type { SyncStorage } from '../src/storage/storage.js';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';

let running: RunningServer | undefined;
let dir: string | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  running = undefined;
  dir = undefined;
});

const SCOPES = ['team:a', 'team:b', 'team:c'];
const WRITERS = 20;
const BATCHES = 5;
const PER_BATCH = 5;

const backends: [string, () => SyncStorage][] = [
  ['memory', () => new MemoryStorage()],
  [
    'sqlite',
    () => {
      dir = mkdtempSync(join(tmpdir(), 'syncline-versions-'));
      return new SqliteStorage({ path: join(dir, 'v.db') });
    },
  ],
];

describe.each(backends)('per-scope versions under concurrent pushes (%s)', (_name, makeStorage) => {
  it(`are gapless and in commit order with ${WRITERS} sockets writing at once`, async () => {
    running = await startServer({ storage: makeStorage() });
    const url = running.url;
    const observer = await TestClient.connect(url);
    clients.push(observer);
    await observer.subscribe(...SCOPES);
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => TestClient.connect(url)));
    clients.push(...writers);

    // Every writer pushes its batches back to back; all writers run concurrently.
    const assigned = new Map<string, number[]>(SCOPES.map((s) => [s, []]));
    await Promise.all(
      writers.map(async (w, wi) => {
        for (let b = 0; b < BATCHES; b++) {
          const batch = w.mutations(
            ...Array.from({ length: PER_BATCH }, (_, i) => ({
              scope: SCOPES[(wi + b + i) % SCOPES.length]!,
              collection: 'items',
              id: `w${wi}-b${b}-${i}`,
              op: 'put' as const,
              base: 0 as never,
              value: { wi, b, i },
            })),
          );
          const res = await w.push(batch);
          if (!res.ok) throw new Error(res.error.code);
          res.results.forEach((r, i) => {
            if (r.status !== 'applied') throw new Error(`unexpected ${r.status}`);
            assigned.get(batch[i]!.scope)!.push(r.version);
          });
        }
      }),
    );

    const total = WRITERS * BATCHES * PER_BATCH;
    let seen = 0;
    for (const scope of SCOPES) {
      const versions = assigned.get(scope)!.sort((a, b) => a - b);
      seen += versions.length;
      // Gapless, no duplicates: exactly 1..n.
      expect(versions).toEqual(versions.map((_, i) => i + 1));
      const pulled = await observer.pull(scope, 0, 1000);
      expect(pulled.ok && pulled.head).toBe(versions.length);
      expect(pulled.ok && pulled.changes.map((c) => c.version)).toEqual(versions);
    }
    expect(seen).toBe(total);

    // Live broadcasts arrive in commit order: each message continues exactly where the last ended.
    await observer.waitForChange(() => observer.changes.reduce((n, m) => n + m.changes.length, 0) === total);
    for (const scope of SCOPES) {
      const msgs: ChangesMessage[] = observer.changes.filter((m) => m.scope === scope);
      let cursor = 0;
      for (const m of msgs) {
        expect(m.after).toBe(cursor);
        m.changes.forEach((c, i) => expect(c.version).toBe(m.after + i + 1));
        cursor = m.after + m.changes.length;
      }
      expect(cursor).toBe(assigned.get(scope)!.length);
    }
  });
});
