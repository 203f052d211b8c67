import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedChange } from '@syncline/protocol';
import { createSyncServer, type SyncServer } from '../src/create-sync-server.js';
import { ChangeFeedError } from '../src/feed/change-feed.js';
import { silentLogger } from '../src/ops/logger.js';
import type { AppFeedChange } from '../src/sync/app-values.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import {
  startServer,
  TestClient,
  type MutationInput,
  type RunningServer,
} from '@syncline/test-support/server';
import { FeedReader } from './helpers/http.js';
import { tokenAuth } from './helpers/token-auth.js';

let running: RunningServer | undefined;
const clients: TestClient[] = [];
const readers: FeedReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  running = undefined;
});

async function setup() {
  running = await startServer({ auth: tokenAuth, changeFeed: { pollIntervalMs: 60_000 } });
  const alice = await TestClient.connect(running.url, { token: 'alice' });
  clients.push(alice);
  return { running, alice, url: running.url };
}

async function open(
  url: string,
  query: Record<string, string>,
  opts: Parameters<typeof FeedReader.open>[2] = {},
) {
  const out = await FeedReader.open(url, query, { token: 'alice', ...opts });
  if (!out.reader) throw new Error(`feed refused: ${out.status} ${JSON.stringify(out.body)}`);
  readers.push(out.reader);
  return out.reader;
}

const put = (scope: string, id: string, value: Record<string, unknown>): MutationInput => ({
  scope,
  collection: 'cards',
  id,
  op: 'put',
  base: 0,
  value: value as never,
});

/** Five changes in team:a (three records, one patched and deleted) interleaved with team:b. */
async function workload(alice: TestClient) {
  await alice.write(put('team:a', 'c1', { title: 'one' })); // a@1
  await alice.write(put('team:b', 'x', { n: 1 })); // b@1
  await alice.write({
    scope: 'team:a',
    collection: 'cards',
    id: 'c1',
    op: 'patch',
    base: 1,
    patch: { set: { title: 'uno' } },
  }); // a@2
  await alice.write(put('team:a', 'c2', { title: 'two' }), put('team:b', 'y', { n: 2 })); // a@3, b@2
  await alice.write({ scope: 'team:a', collection: 'cards', id: 'c1', op: 'delete', base: 2 }); // a@4
  await alice.write(put('team:a', 'c3', { title: 'three' })); // a@5
}

const summary = (changes: readonly (FeedChange | AppFeedChange)[]) =>
  changes.map((c) => `${c.version}:${c.op}:${c.id}`);
const ALL_A = ['1:put:c1', '2:patch:c1', '3:put:c2', '4:delete:c1', '5:put:c3'];

describe('change feed over HTTP (Server-Sent Events)', () => {
  it('from cursor 0 delivers every committed change once, in order (not just latest states), then streams live', async () => {
    const { alice, url } = await setup();
    await workload(alice);
    const reader = await open(url, { scope: 'team:a' });
    expect(reader.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const caught = await reader.waitFor((e) => e.type === 'caught_up');
    expect(caught).toMatchObject({ type: 'caught_up', version: 5, id: '5' });
    expect(summary(reader.changes())).toEqual(ALL_A);
    // The pull API returns each record's latest state only: three rows, not five changes.
    const pulled = await alice.pull('team:a');
    expect(pulled.ok && pulled.changes.map((c) => c.version)).toEqual([3, 4, 5]);

    const first = reader.changes()[1]!;
    expect(first).toEqual({
      scope: 'team:a',
      collection: 'cards',
      id: 'c1',
      version: 2,
      prevVersion: 1,
      op: 'patch',
      value: { title: 'uno' },
      clientId: alice.clientId,
      mid: 3,
      userId: 'alice',
      serverTime: expect.any(Number) as number,
      conflict: null,
      restoredFrom: null,
    });
    expect(reader.events.filter((e) => e.type === 'change').map((e) => e.id)).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);

    // Live: new commits stream in, in order, each once; other scopes never show up.
    await alice.write(put('team:a', 'c4', { title: 'four' }), put('team:b', 'z', { n: 3 }));
    await alice.write(put('team:a', 'c5', { title: 'five' }), put('team:a', 'c6', { title: 'six' }));
    const all = await reader.waitForChanges(8);
    expect(summary(all)).toEqual([...ALL_A, '6:put:c4', '7:put:c5', '8:put:c6']);
    expect(all.every((c) => c.scope === 'team:a')).toBe(true);
  });

  it('from a middle cursor delivers exactly the changes after it', async () => {
    const { alice, url } = await setup();
    await workload(alice);
    const reader = await open(url, { scope: 'team:a', after: '2' });
    await reader.waitFor((e) => e.type === 'caught_up');
    expect(summary(reader.changes())).toEqual(ALL_A.slice(2));
    const atHead = await open(url, { scope: 'team:a', after: '5' });
    expect(await atHead.waitFor((e) => e.type === 'caught_up')).toMatchObject({ version: 5 });
    expect(atHead.changes()).toEqual([]);
  });

  it('resumes after a disconnect from Last-Event-ID without loss or duplicates', async () => {
    const { alice, url } = await setup();
    await workload(alice);
    const first = await open(url, { scope: 'team:a', after: '0' });
    await first.waitForChanges(5);
    await alice.write(put('team:a', 'c4', { title: 'four' })); // 6, seen live
    await first.waitForChanges(6);
    const lastId = first.events.filter((e) => e.type === 'change').at(-1)!.id!;
    first.close();

    // Written while the consumer is away.
    await alice.write(put('team:a', 'c5', { title: 'five' })); // 7
    await alice.write(put('team:a', 'c6', { title: 'six' })); // 8

    // Like an EventSource reconnecting: the original URL (after=0) and the last id it saw.
    const second = await open(url, { scope: 'team:a', after: '0' }, { lastEventId: lastId });
    await second.waitFor((e) => e.type === 'caught_up');
    await alice.write(put('team:a', 'c7', { title: 'seven' })); // 9, live again
    const resumed = await second.waitForChanges(3);
    const seen = [...first.changes(), ...resumed].map((c) => c.version);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('stays exact when commits race with the catch-up: versions 1..N, each once', async () => {
    const { alice, url, running: r } = await setup();
    const bob = await TestClient.connect(url, { token: 'bob' });
    clients.push(bob);
    const writes = (c: TestClient, tag: string) =>
      (async () => {
        for (let i = 0; i < 20; i++) {
          await c.write(
            ...Array.from({ length: 3 }, (_, k) => put('team:a', `${tag}${i}-${k}`, { i, k })),
            put('team:b', `${tag}${i}`, { i }),
          );
        }
      })();
    await alice.write(put('team:a', 'first', { n: 0 })); // the feed opens with history already there
    const writing = Promise.all([writes(alice, 'a'), writes(bob, 'b')]);
    const http = await open(url, { scope: 'team:a' });
    const node: number[] = [];
    const controller = new AbortController();
    const nodeDone = (async () => {
      for await (const c of r.server.changes('team:a', { signal: controller.signal })) {
        node.push(c.version);
        if (node.length === 121) controller.abort();
      }
    })();
    await writing;
    const all = Array.from({ length: 121 }, (_, i) => i + 1);
    expect((await http.waitForChanges(121)).map((c) => c.version)).toEqual(all);
    await nodeDone;
    expect(node).toEqual(all);
  });

  it('speaks JSON lines, and with follow=false ends at the head', async () => {
    const { alice, url } = await setup();
    await workload(alice);
    const reader = await open(url, { scope: 'team:a', after: '3', follow: 'false' }, { format: 'ndjson' });
    expect(reader.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    await reader.waitForEnd();
    expect(reader.events.map((e) => e.type)).toEqual(['change', 'change', 'caught_up']);
    expect(summary(reader.changes())).toEqual(ALL_A.slice(3));
  });

  it('sends heartbeats on an idle stream', async () => {
    running = await startServer({ auth: tokenAuth, changeFeed: { heartbeatMs: 30 } });
    const reader = await open(running.url, { scope: 'team:quiet' });
    await reader.waitFor((e) => e.type === 'heartbeat');
  });

  it('refuses a cursor whose history retention removed (410) and one ahead of the head', async () => {
    const { alice, url, running: r } = await setup();
    await workload(alice);
    await r.storage.prune({ keepVersions: 1 }, Date.now()); // c1's versions 1 and 2 go, 4 stays
    const refused = await FeedReader.open(url, { scope: 'team:a' }, { token: 'alice' });
    expect(refused.status).toBe(410);
    expect(refused.body?.error).toMatchObject({
      code: 'cursor_unavailable',
      retryable: false,
      details: { after: 0, resumeAfter: 2 },
    });
    // Resuming where the retained history continues works (and 4 is still there).
    const reader = await open(url, { scope: 'team:a', after: '2' });
    await reader.waitFor((e) => e.type === 'caught_up');
    expect(summary(reader.changes())).toEqual(ALL_A.slice(2));
    const ahead = await FeedReader.open(url, { scope: 'team:a', after: '99' }, { token: 'alice' });
    expect(ahead.status).toBe(410);
    expect(ahead.body?.error.details).toMatchObject({ after: 99, head: 5 });
  });

  it('ends open streams with a shutting_down error when the server closes', async () => {
    const { url, running: r } = await setup();
    const reader = await open(url, { scope: 'team:a' });
    await reader.waitFor((e) => e.type === 'caught_up');
    await r.server.close();
    await reader.waitForEnd();
    expect(reader.events.at(-1)).toMatchObject({ type: 'error', error: { code: 'shutting_down' } });
  });

  it('picks up commits made by another node sharing the storage (poll)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'syncline-feed-'));
    const file = join(dir, 'shared.db');
    const servers: { server: SyncServer; storage: SqliteStorage }[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const storage = new SqliteStorage({ path: file, synchronous: 'NORMAL' });
        const server = createSyncServer({
          storage,
          auth: tokenAuth,
          logger: silentLogger,
          changeFeed: { pollIntervalMs: 25 },
        });
        servers.push({ server, storage });
      }
      const [a, b] = await Promise.all(servers.map((s) => s.server.listen(0)));
      const reader = await open(a!.url, { scope: 'team:a' });
      await reader.waitFor((e) => e.type === 'caught_up');
      const writer = await TestClient.connect(b!.url, { token: 'alice' });
      clients.push(writer);
      await writer.write(put('team:a', 'n1', { title: 'via b' }));
      await writer.write(put('team:a', 'n2', { title: 'via b' }));
      expect(summary(await reader.waitForChanges(2))).toEqual(['1:put:n1', '2:put:n2']);
    } finally {
      for (const r of readers.splice(0)) r.close();
      for (const s of servers) {
        await s.server.close();
        await s.storage.close();
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('change feed Node API (async iterator)', () => {
  it('yields every change once in order, reports catching up, then follows live commits', async () => {
    const { alice, running: r } = await setup();
    await workload(alice);
    const seen: AppFeedChange[] = [];
    let caughtUp: number | undefined;
    const controller = new AbortController();
    const done = (async () => {
      for await (const change of r.server.changes('team:a', {
        signal: controller.signal,
        onCaughtUp: (v) => (caughtUp = v),
      })) {
        seen.push(change);
        if (seen.length === 7) controller.abort();
      }
    })();
    await expect.poll(() => caughtUp).toBe(5);
    expect(summary(seen)).toEqual(ALL_A);
    await alice.write(put('team:a', 'c4', { title: 'four' }), put('team:a', 'c5', { title: 'five' }));
    await done; // the abort after the 7th change ends the loop cleanly
    expect(summary(seen)).toEqual([...ALL_A, '6:put:c4', '7:put:c5']);
  });

  it('resumes from `after`, can stop at the head, and ends when the consumer breaks out', async () => {
    const { alice, running: r } = await setup();
    await workload(alice);
    const tail: number[] = [];
    for await (const c of r.server.changes('team:a', { after: 3, follow: false })) tail.push(c.version);
    expect(tail).toEqual([4, 5]);
    const firstTwo: number[] = [];
    for await (const c of r.server.changes('team:a')) {
      firstTwo.push(c.version);
      if (firstTwo.length === 2) break;
    }
    expect(firstTwo).toEqual([1, 2]);
  });

  it('throws ChangeFeedError for a bad scope or cursor and for pruned history', async () => {
    const { alice, running: r } = await setup();
    await workload(alice);
    const first = (scope: string, after?: number) =>
      r.server.changes(scope, after === undefined ? {} : { after }).next();
    await expect(first('no spaces allowed')).rejects.toMatchObject({ error: { code: 'invalid_message' } });
    await expect(first('team:a', -1)).rejects.toBeInstanceOf(ChangeFeedError);
    await r.storage.prune({ keepVersions: 1 }, Date.now());
    await expect(first('team:a')).rejects.toMatchObject({
      error: { code: 'cursor_unavailable', details: { resumeAfter: 2 } },
    });
  });
});
