import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Mutation, MutationResult } from '@syncline/protocol';
import { newClientId, TestClient } from '@syncline/test-support/server';
import { spawnServer, type ServerProcess } from '@syncline/test-support';

let dir: string;
let proc: ServerProcess | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-crash-'));
});
afterEach(async () => {
  if (proc && proc.proc.exitCode === null && proc.proc.signalCode === null) {
    proc.proc.kill('SIGKILL');
    await proc.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const SCOPE = 'team:crash';

describe('server killed with SIGKILL', () => {
  it(
    'loses no acknowledged write, and re-pushes after restart are duplicates',
    { timeout: 60_000 },
    async () => {
      const db = join(dir, 'sync.db');
      const clientId = newClientId();
      proc = await spawnServer(['--port', '0', '--db', db, '--log-level', 'info']);
      const client = await TestClient.connect(proc.url, { clientId });

      // Eight pushes of 25 mutations in flight at once; kill the server the moment the first ack lands.
      const batches: Mutation[][] = [];
      for (let b = 0; b < 8; b++) {
        batches.push(
          client.mutations(
            ...Array.from({ length: 25 }, (_, i) => ({
              scope: SCOPE,
              collection: 'notes',
              id: `n${b}-${i}`,
              op: 'put' as const,
              base: 0 as never,
              value: { batch: b, i, text: 'x'.repeat(200) },
            })),
          ),
        );
      }
      const acked: MutationResult[] = [];
      let killed = false;
      const running = proc;
      await Promise.allSettled(
        batches.map(async (batch) => {
          const res = await client.push(batch);
          if (res.ok) acked.push(...res.results);
          if (!killed) {
            killed = true;
            running.proc.kill('SIGKILL');
          }
        }),
      );
      client.close();
      expect(await running.exited).toBe('SIGKILL');
      expect(acked.length).toBeGreaterThanOrEqual(25);

      proc = await spawnServer(['--port', '0', '--db', db, '--log-level', 'info']);
      const after = await TestClient.connect(proc.url, { clientId });
      const pulled = await after.pull(SCOPE, 0, 1000);
      expect(pulled.ok).toBe(true);
      if (!pulled.ok) return;
      const stored = new Set(pulled.changes.map((c) => c.mid));
      for (const r of acked) expect(stored.has(r.mid)).toBe(true);
      // Versions stayed gapless across the crash.
      expect(pulled.changes.map((c) => c.version)).toEqual(pulled.changes.map((_, i) => i + 1));

      // The client, not knowing which pushes landed, re-sends everything from mid 1.
      const resend = await after.push(batches.flat());
      expect(resend.ok).toBe(true);
      if (!resend.ok) return;
      const statuses = new Map(resend.results.map((r) => [r.mid, r.status]));
      for (const r of acked) expect(statuses.get(r.mid)).toBe('duplicate');
      expect(resend.results.filter((r) => r.status === 'applied').length).toBe(200 - stored.size);
      const final = await after.pull(SCOPE, 0, 1000);
      expect(final.ok && final.changes.length).toBe(200);
      after.close();
    },
  );
});
