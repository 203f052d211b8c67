import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '@syncline/test-support';
import { dropSchema, PG_URL, REDIS_URL, testSchema } from '@syncline/test-support/databases';
import { TestClient } from '@syncline/test-support/server';
import { killAll, spawnNode } from '../helpers/cluster-nodes.js';

// `syncline-server --redis` counts the cross-socket budgets in Redis, so two nodes allow a
// budget once between them (before, each node counted its own: N nodes, N times the budget).
describe.skipIf(!PG_URL || !REDIS_URL)('syncline-server --redis: budgets shared by the nodes', () => {
  const schema = testSchema('budgets');
  const dir = mkdtempSync(join(tmpdir(), 'syncline-budgets-'));
  const nodes: ServerProcess[] = [];
  afterAll(async () => {
    await killAll(nodes);
    await dropSchema(PG_URL!, schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a connection budget of 3 per address holds over two nodes', async () => {
    const config = join(dir, 'syncline.config.mjs');
    writeFileSync(
      config,
      'export default { budgets: { connectionsPerAddress: { points: 3, seconds: 60 } } };\n',
    );
    const args = ['--config', config];
    const opts = { pgUrl: PG_URL!, schema, redisUrl: REDIS_URL!, args };
    nodes.push(await spawnNode(opts), await spawnNode(opts));
    const [a, b] = nodes as [ServerProcess, ServerProcess];
    for (const url of [a.url, b.url, a.url]) (await TestClient.connect(url, { token: 'u' })).close();
    const refused: unknown = await TestClient.connect(b.url, { token: 'u' }).then(
      (c) => {
        c.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    expect(refused, 'the fourth connection was accepted').toBeInstanceOf(Error);
    expect((refused as { data?: { code?: string; message?: string } }).data).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/this address/) as unknown,
    });
  }, 60_000);
});
