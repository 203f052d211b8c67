import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@syncline/test-support';
import { PG_URL, REDIS_URL } from '@syncline/test-support/databases';
import { converged } from '@syncline/test-support/devices';
import { inProcessCluster } from '../helpers/in-process-cluster.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';

let redis: PrivateRedis | undefined;

// A private redis-server (killed and restarted here; the machine's one is shared), next to the
// shared PostgreSQL. Runs wherever the Redis tests run.
describe.skipIf(!PG_URL || !REDIS_URL)('Redis fan-out: Redis killed and restarted', () => {
  beforeAll(async () => {
    redis = await startPrivateRedis();
  }, 30_000);
  // Registered before the cluster's own afterAll, so it runs after the nodes are closed.
  afterAll(async () => {
    await redis?.destroy();
  });
  const env = inProcessCluster({ kind: 'redis', url: () => redis!.url });

  it('nodes stay up and unready, keep local fan-out, and catch up across nodes once it is back', async () => {
    const [node1, node2] = [env.node(0), env.node(1)];
    const writer = await env.client(node1);
    const local = await env.client(node1);
    await local.subscribe('board:r');
    const remote = await env.device(node2, 'board:r');
    const connections = node2.connections;

    await redis!.kill();
    // Bounds are generous: the whole suite runs in parallel on two cores.
    await eventually(
      () => !node1.fanout.ready() && !node2.fanout.ready(),
      'nodes never noticed Redis go',
      30_000,
    );
    const ready = await fetch(`${node2.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ storage: { ok: true }, checks: { adapter: { ok: false } } });

    // Storage is fine: the write is acknowledged, and node 1's own subscriber hears of it live.
    const started = Date.now();
    const results = await writer.write({
      scope: 'board:r',
      collection: 'cards',
      id: 'during-outage',
      op: 'put',
      base: 0,
      value: { id: 'during-outage', board: 'r', title: 'written while Redis was down' },
    } as never);
    expect(results[0]?.status).toBe('applied');
    await local.waitForChange((m) => m.changes.some((c) => c.id === 'during-outage'), 5000);
    expect(Date.now() - started).toBeLessThan(5000);

    await redis!.start();
    await eventually(() => node1.fanout.ready() && node2.fanout.ready(), 'nodes never reconnected', 15_000);
    // Node 2 never got that broadcast; no other write follows: the re-announced head tells its client.
    await eventually(
      async () => (await remote.db.cards.get('during-outage')) !== undefined,
      'no catch-up',
      30_000,
    );
    await converged(remote, 'board:r');
    expect(node2.connections).toBe(connections);
    expect((await fetch(`${node2.url}/readyz`)).status).toBe(200);

    // And live cross-node fan-out works again.
    const after = await env.client(node2);
    await after.subscribe('board:r');
    await writer.write({
      scope: 'board:r',
      collection: 'cards',
      id: 'after-outage',
      op: 'put',
      base: 0,
      value: { id: 'after-outage', board: 'r', title: 'live again' },
    } as never);
    await after.waitForChange((m) => m.changes.some((c) => c.id === 'after-outage'), 10_000);
  }, 120_000);
});
