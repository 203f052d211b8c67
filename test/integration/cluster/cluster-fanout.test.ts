import { describe, expect, it } from 'vitest';
import type { SyncServer } from '@syncline/server';
import { converged } from '@syncline/test-support/devices';
import { PG_URL, query, REDIS_URL } from '@syncline/test-support/databases';
import { eventually } from '@syncline/test-support';
import { inProcessCluster } from '../helpers/in-process-cluster.js';

type Kind = 'postgres' | 'redis';

/** Socket.IO's cluster message type of a broadcast (socket.io-adapter's `MessageType.BROADCAST`). */
const BROADCAST = 3;

/** Makes node's adapter drop the next cross-node broadcast (its own sockets still get it). */
function dropNextCrossNodeBroadcast(server: SyncServer): { dropped(): number } {
  const adapter = server.io.of('/').adapter as unknown as {
    doPublish(message: { type: number }): Promise<string>;
  };
  const original = adapter.doPublish.bind(adapter);
  let dropped = 0;
  adapter.doPublish = (message) => {
    if (message.type === BROADCAST && dropped === 0) {
      dropped++;
      return Promise.resolve('');
    }
    return original(message);
  };
  return { dropped: () => dropped };
}

const put = (id: string, value: Record<string, unknown>) =>
  ({
    scope: 'board:x',
    collection: 'cards',
    id,
    op: 'put',
    base: 0,
    value: { id, board: 'x', ...value },
  }) as const;

function fanoutSuite(kind: Kind): void {
  const env = inProcessCluster(kind === 'postgres' ? { kind } : { kind, url: () => REDIS_URL! });

  it('reports the adapter in /readyz and, informationally, in /healthz', async () => {
    const ready = (await (await fetch(`${env.node(1).url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready).toMatchObject({
      status: 'ok',
      storage: { kind: 'postgres', ok: true },
      checks: { adapter: { ok: true } },
    });
    const live = (await (await fetch(`${env.node(1).url}/healthz`)).json()) as Record<string, unknown>;
    expect(live).toMatchObject({
      status: 'ok',
      adapter: { kind, ok: true },
      lastReadiness: { status: 'ok', storageOk: true },
    });
  });

  it('delivers a write on node 1 to a subscriber on node 2 live, large values included', async () => {
    const writer = await env.client(env.node(0));
    const reader = await env.client(env.node(1));
    expect((await reader.subscribe('board:x')).ok).toBe(true);
    const started = Date.now();
    await writer.write(put('live-1', { title: 'small' }));
    // Above PostgreSQL's 8000-byte NOTIFY limit: travels through the attachments table.
    await writer.write(put('live-2', { title: 'large', notes: 'x'.repeat(20_000) }));
    const small = await reader.waitForChange((m) => m.changes.some((c) => c.id === 'live-1'), 10_000);
    const large = await reader.waitForChange((m) => m.changes.some((c) => c.id === 'live-2'), 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(large.after).toBe(small.after + 1);
    expect((large.changes[0]!.value as { notes: string }).notes).toHaveLength(20_000);
  });

  it('a lost cross-node broadcast costs only latency: the next change shows the gap and the client pulls', async () => {
    const writer = await env.client(env.node(0));
    const observer = await env.client(env.node(1));
    await observer.subscribe('board:x');
    const d = await env.device(env.node(1), 'board:x');
    const connections = env.node(1).connections;
    const cut = dropNextCrossNodeBroadcast(env.node(0).server);
    await writer.write(put('lost', { title: 'its broadcast never reaches node 2' }));
    await writer.write(put('after-lost', { title: 'reveals the gap' }));
    await observer.waitForChange((m) => m.changes.some((c) => c.id === 'after-lost'));
    expect(cut.dropped()).toBe(1);
    expect(observer.changes.some((m) => m.changes.some((c) => c.id === 'lost'))).toBe(false);
    await eventually(
      async () => (await d.db.cards.get('lost')) !== undefined,
      'the client never pulled the lost change',
    );
    await converged(d, 'board:x');
    expect(env.node(1).connections).toBe(connections); // caught up on the same connection
  });

  if (kind === 'postgres') {
    it('a lost LISTEN connection makes the node unready, and once back it re-announces scope heads', async () => {
      const node2 = env.node(1);
      const writer = await env.client(env.node(0));
      const d = await env.device(node2, 'board:x');
      const connections = node2.connections;
      const killed = await query<{ ok: boolean }>(
        PG_URL!,
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [`${env.schema}-node2`],
      );
      expect(killed.length).toBeGreaterThan(0);
      await eventually(() => !node2.fanout.ready(), 'node 2 never noticed its lost LISTEN connection');
      const ready = await fetch(`${node2.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { adapter: { ok: false } } });

      // Committed while node 2 cannot hear it: its broadcast to node 2 is lost for good.
      await writer.write(put('while-deaf', { title: 'missed by node 2' }));
      expect(node2.fanout.ready()).toBe(false);
      await eventually(() => node2.fanout.ready(), 'node 2 never re-established LISTEN', 15_000);
      // No further write in the scope and no reconnect: only the re-announced head can tell it.
      await eventually(
        async () => (await d.db.cards.get('while-deaf')) !== undefined,
        'no catch-up after reconnect',
      );
      expect(node2.connections).toBe(connections);
      expect(
        node2.logger.entries.some((e) => e.msg === 're-announced scope heads after fan-out reconnect'),
      ).toBe(true);
      expect((await fetch(`${node2.url}/readyz`)).status).toBe(200);
    });
  }
}

describe.skipIf(!PG_URL)('cross-node fan-out through PostgreSQL LISTEN/NOTIFY', () =>
  fanoutSuite('postgres'),
);
describe.skipIf(!PG_URL || !REDIS_URL)('cross-node fan-out through Redis Streams', () =>
  fanoutSuite('redis'),
);
