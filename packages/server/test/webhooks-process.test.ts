import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newClientId, TestClient } from '@syncline/test-support/server';
import { eventually, spawnServer, type ServerProcess } from '@syncline/test-support';
import { dropSchema, PG_URL, testSchema } from '@syncline/test-support/databases';

let dir: string;
const procs: ServerProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-webhooks-'));
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      p.proc.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const fn of cleanups.splice(0).reverse()) await fn();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A receiver on 127.0.0.1 that answers each delivery after 3 ms (so a backlog takes long enough
 * for a kill to land in the middle), and the `--config` module of a webhook on `notes` to it.
 */
async function receiver(): Promise<{ config: string; keys: string[] }> {
  const keys: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      keys.push(String(req.headers['idempotency-key']));
      setTimeout(() => res.writeHead(204).end(), 3);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const config = join(dir, 'webhooks.config.mjs');
  writeFileSync(
    config,
    `export default {
  changeFeed: { pollIntervalMs: 100 },
  collections: { notes: { webhook: { url: ${JSON.stringify(url)}, secret: 'whsec', retryDelayMs: 20 } } },
};
`,
  );
  return { config, keys };
}

/** Writes `n` notes over three scopes through one client (pushes of 50), from number `from`. */
async function write(url: string, n: number, from = 0): Promise<void> {
  const client = await TestClient.connect(url, { clientId: newClientId() });
  try {
    for (let start = from; start < from + n; start += 50) {
      const batch = client.mutations(
        ...Array.from({ length: Math.min(50, from + n - start) }, (_, k) => ({
          scope: `team:${(start + k) % 3}`,
          collection: 'notes',
          id: `n${start + k}`,
          op: 'put' as const,
          base: 0,
          value: { i: start + k },
        })),
      );
      const res = await client.push(batch);
      if (!res.ok) throw new Error(JSON.stringify(res));
    }
  } finally {
    client.close();
  }
}

/** Each of `total` changes delivered (deduplicated by key), every scope's first deliveries in order. */
function expectEveryChangeOnce(keys: readonly string[], total: number): void {
  const firsts = [...new Set(keys)];
  const byScope: Record<string, number[]> = {};
  for (const key of firsts) {
    const [scope, version] = key.split('@') as [string, string];
    (byScope[scope] ??= []).push(Number(version));
  }
  const counts = [0, 1, 2].map((s) => Math.floor(total / 3) + (s < total % 3 ? 1 : 0));
  expect(byScope).toEqual(
    Object.fromEntries(counts.map((c, s) => [`team:${s}`, Array.from({ length: c }, (_, i) => i + 1)])),
  );
}

const delivering = (p: ServerProcess) =>
  p.lines.some((l) => l.includes('"sink running"') && l.includes('"sink":"webhook:notes"'));

describe('webhooks across process deaths', () => {
  it(
    'SIGKILL mid-delivery, restart: every change delivered, once after dedupe, in order per scope',
    { timeout: 60_000 },
    async () => {
      const { config, keys } = await receiver();
      const args = ['--port', '0', '--db', join(dir, 'sync.db'), '--config', config, '--log-level', 'info'];
      const first = await spawnServer(args);
      procs.push(first);
      await write(first.url, 150);
      await eventually(() => keys.length >= 20, 'delivery under way');
      first.proc.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      expect(new Set(keys).size).toBeLessThan(150); // killed in the middle

      const second = await spawnServer(args);
      procs.push(second);
      await eventually(() => new Set(keys).size >= 150, 'the rest delivered after the restart', 20_000);
      expectEveryChangeOnce(keys, 150);
    },
  );

  describe.skipIf(!PG_URL)('on PostgreSQL', () => {
    it('two nodes: one delivers; kill it and the other takes over', { timeout: 60_000 }, async () => {
      const schema = testSchema();
      cleanups.push(() => dropSchema(PG_URL!, schema));
      const { config, keys } = await receiver();
      const args = ['--port', '0', '--postgres', PG_URL!, '--pg-schema', schema, '--config', config];
      const a = await spawnServer([...args, '--log-level', 'info']);
      procs.push(a);
      await eventually(() => delivering(a), 'node A delivers');
      const b = await spawnServer([...args, '--log-level', 'info']);
      procs.push(b);
      await write(b.url, 150);
      await eventually(() => keys.length >= 20, 'node A delivering');
      // One node at a time: B stood by while A held the webhook's lock.
      expect(delivering(b)).toBe(false);
      a.proc.kill('SIGKILL');
      await a.exited;
      await eventually(() => delivering(b), 'node B took the webhook over', 15_000);
      await write(b.url, 60, 150);
      await eventually(() => new Set(keys).size >= 210, 'B delivered the rest', 20_000);
      expectEveryChangeOnce(keys, 210);
    });
  });
});
