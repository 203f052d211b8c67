import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PresenceMessage } from '@syncline/protocol';
import type { PresenceMember } from '@syncline/client';
import {
  createPostgresFanout,
  createRedisFanout,
  createSyncServer,
  PostgresStorage,
  type ClusterFanout,
  type SyncServerOptions,
} from '@syncline/server';
import { deleteRedisKey, dropSchema, PG_URL, REDIS_URL, testSchema } from '@syncline/test-support/databases';
import { device, type Device } from '@syncline/test-support/devices';
import { TestClient } from '@syncline/test-support/server';
import { recordingLogger } from '../helpers/in-process-cluster.js';

// Presence across two nodes: a watcher on node 1 sees a tab on node 2 (also one that was there
// before it watched), sees it leave when its socket closes, and sees it expire when node 2 dies
// without a word (its fan-out cut first, then the node closed).

const SCOPE = 'board:presence';
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 8000, interval: 20 });

interface Node {
  readonly url: string;
  readonly fanout: ClusterFanout;
  stop(): Promise<void>;
}

function presenceSuite(kind: 'postgres' | 'redis'): void {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    cleanup = [];
  });

  /** Two nodes on one fresh schema with the given presence timing. */
  async function twoNodes(presence: NonNullable<SyncServerOptions['presence']>): Promise<[Node, Node]> {
    const schema = testSchema();
    const prefix = `syncline:test:${schema}`;
    cleanup.push(async () => {
      await dropSchema(PG_URL!, schema);
      if (kind === 'redis') await deleteRedisKey(REDIS_URL!, prefix);
    });
    const start = async (name: string): Promise<Node> => {
      const logger = recordingLogger();
      const storage = await PostgresStorage.open({ connectionString: PG_URL!, schema, poolSize: 2 });
      const fanout =
        kind === 'postgres'
          ? await createPostgresFanout({
              connectionString: PG_URL!,
              schema,
              logger,
              applicationName: `${schema}-${name}`,
            })
          : await createRedisFanout({ url: REDIS_URL!, prefix, logger });
      const server = createSyncServer({ storage, auth: 'development', logger, cluster: fanout, presence });
      const { url } = await server.listen(0);
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        await server.close();
        await fanout.close().catch(() => undefined);
        await storage.close();
      };
      cleanup.push(stop);
      return { url, fanout, stop };
    };
    return [await start('node1'), await start('node2')];
  }

  async function raw(node: Node, user: string) {
    const c = await TestClient.connect(node.url, { token: user });
    cleanup.push(() => Promise.resolve(c.close()));
    const seen: PresenceMessage[] = [];
    c.socket.on('presence', (m) => seen.push(m));
    return { c, seen };
  }

  it('shows a newcomer the entries of the other node at once, and a leave when the socket closes', async () => {
    // No refresh during the test: what the newcomer sees comes from its `presence_wanted`.
    const [one, two] = await twoNodes({ refreshMs: 60_000, ttlMs: 120_000 });
    const ben = await raw(two, `ben-${kind}`);
    expect(await ben.c.raw('presence_set', { scope: SCOPE, tab: 't1', state: { viewing: 'c1' } })).toEqual({
      ok: true,
    });
    const ann = await raw(one, `ann-${kind}`);
    expect(await ann.c.raw('presence_watch', { scope: SCOPE, watch: true })).toEqual({ ok: true });
    const entries = () => ann.seen.flatMap((m) => m.entries);
    // What a watcher shows: entries are upserts by client and tab. Ben's entry may arrive twice
    // (the other node's answer to the newcomer, and the fan-out of Ben's set if it crossed late).
    const shown = () => {
      const byTab = new Map<string, (typeof ann.seen)[number]['entries'][number]>();
      for (const m of ann.seen) {
        for (const e of m.entries) byTab.set(`${e.client}/${e.tab}`, e);
        for (const l of m.left) byTab.delete(`${l.client}/${l.tab}`);
      }
      return [...byTab.values()];
    };
    await eventually(() =>
      expect(shown()).toEqual([
        { user: `ben-${kind}`, client: ben.c.clientId, tab: 't1', state: { viewing: 'c1' } },
      ]),
    );
    // A change crosses as it happens.
    await ben.c.raw('presence_set', { scope: SCOPE, tab: 't1', state: { editing: 'c1' } });
    await eventually(() => expect(entries().at(-1)?.state).toEqual({ editing: 'c1' }));
    ben.c.close();
    await eventually(() =>
      expect(ann.seen.flatMap((m) => m.left)).toEqual([
        { user: `ben-${kind}`, client: ben.c.clientId, tab: 't1' },
      ]),
    );
  });

  it('drops the entries of a node that dies within ttlMs (real client on the other node)', async () => {
    const [one, two] = await twoNodes({ refreshMs: 200, ttlMs: 800 });
    const d: Device = device(one.url, { client: { token: `ann-${kind}` } });
    cleanup.push(() => d.sync.close());
    await d.sync.start();
    let seen: PresenceMember[] = [];
    const sub = d.sync.presence$(SCOPE).subscribe((m) => (seen = m));
    cleanup.push(() => Promise.resolve(sub.unsubscribe()));
    const ben = await raw(two, `ben-${kind}`);
    await ben.c.raw('presence_set', { scope: SCOPE, tab: 't1', state: 'here' });
    await eventually(() => expect(seen.map((m) => m.user)).toEqual([`ben-${kind}`]));
    // Several refreshes later it is still there: refreshes keep it alive.
    await new Promise((r) => setTimeout(r, 1200));
    expect(seen.map((m) => m.user)).toEqual([`ben-${kind}`]);
    // Node 2 dies: its fan-out goes first, so no leave can reach node 1; the TTL ends the entry.
    await two.fanout.close();
    await two.stop();
    await eventually(() => expect(seen).toEqual([]));
  });
}

describe.skipIf(!PG_URL)('presence across nodes (PostgreSQL fan-out)', () => presenceSuite('postgres'));
describe.skipIf(!PG_URL || !REDIS_URL)('presence across nodes (Redis fan-out)', () => presenceSuite('redis'));
