// Before dexie: Dexie picks up the global indexedDB when it loads.
import 'fake-indexeddb/auto';
import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { asScopeId } from '@syncline/protocol';
import { MemoryStorage, type StoredHistoryEntry } from '@syncline/server';
import { memoryElection, type LeaderElection, type OutboxEntry } from '@syncline/client';
import { converged, device, SCOPE, settled, until, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer, socketIdsOf } from '@syncline/test-support/server';

const OUTBOX = '_syncline_outbox';
const SCOPE_ID = asScopeId(SCOPE);

let server: TestServer | undefined;
const devices: Device[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
  server = undefined;
});

function track(d: Device): Device {
  devices.push(d);
  return d;
}

let tabSets = 0;
/** Two "tabs": two Dexie instances and sync clients on one database name and one election. */
function tabs(url: string, election: LeaderElection = memoryElection()): [Device, Device] {
  const name = `multitab-${process.pid}-${++tabSets}`;
  return [track(device(url, { name, election })), track(device(url, { name, election }))];
}

/** Fails the test if both tabs ever claim leadership at the same time. */
function watchSingleLeader(a: Device, b: Device): () => number {
  const leader = { a: false, b: false };
  let overlaps = 0;
  const subs = [
    a.sync.status$.subscribe((s) => {
      leader.a = s.isLeader;
      if (leader.a && leader.b) overlaps++;
    }),
    b.sync.status$.subscribe((s) => {
      leader.b = s.isLeader;
      if (leader.a && leader.b) overlaps++;
    }),
  ];
  onTestFinished(() => subs.forEach((s) => s.unsubscribe()));
  return () => overlaps;
}

/** Every change this client id made, in version order, from the server's history. */
async function changesBy(storage: MemoryStorage, clientId: string, ids: readonly string[]) {
  const all: StoredHistoryEntry[] = [];
  for (const id of ids) all.push(...(await storage.history(SCOPE_ID, 'cards', id, { limit: 1000 })));
  return all.filter((h) => h.clientId === clientId).sort((x, y) => x.version - y.version);
}

describe('two tabs on one database', () => {
  it('elects one leader that pushes the follower writes with dense, ordered mids', async () => {
    const storage = new MemoryStorage();
    server = await startServer({ storage });
    const [t1, t2] = tabs(server.url);
    const overlaps = watchSingleLeader(t1, t2);
    await t1.sync.start();
    await t2.sync.start();
    await until(t1.sync, (s) => s.isLeader && settled(s));
    const follower = await firstValueFrom(t2.sync.status$);
    expect(follower.isLeader).toBe(false);
    expect(follower.connected).toBe(false);
    expect(t2.sync.clientId).toBe(t1.sync.clientId);
    expect(await socketIdsOf(server.server, t1.sync.clientId)).toHaveLength(1);

    const other = track(device(server.url));
    await other.sync.start();

    // Both tabs write at once, interleaved: puts and incs on a shared card.
    await t1.db.cards.put({ id: 'shared', board: '1', title: 'shared', likes: 0 });
    const ids = ['shared'];
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      const tab = i % 2 === 0 ? t1 : t2;
      const id = `w${i}`;
      ids.push(id);
      writes.push(tab.db.cards.put({ id, board: '1', title: `from tab ${i % 2 === 0 ? 1 : 2}` }));
      writes.push(tab.sync.inc('cards', 'shared', 'likes', 1));
    }
    await Promise.all(writes);
    // The follower sees the leader's pending count (one shared outbox) and drains to zero.
    await until(t2.sync, (s) => s.pending === 0 && !s.isLeader);
    await converged(t1);
    await converged(other);
    expect((await other.db.cards.get('shared'))?.likes).toBe(12);
    expect(await other.db.cards.count()).toBe(13);
    expect(await t2.db.cards.get('w1')).toEqual({ id: 'w1', board: '1', title: 'from tab 2' });

    const mids = (await changesBy(storage, t1.sync.clientId, ids)).map((h) => h.mid);
    expect(mids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await socketIdsOf(server.server, t1.sync.clientId)).toHaveLength(1);
    expect(overlaps()).toBe(0);
  });

  it('hands leadership over when the leader closes, and the new leader pushes the queue', async () => {
    const storage = new MemoryStorage();
    server = await startServer({ storage });
    const [t1, t2] = tabs(server.url);
    const overlaps = watchSingleLeader(t1, t2);
    await t1.sync.start();
    await t2.sync.start();
    await until(t1.sync, (s) => s.isLeader && settled(s));
    const other = track(device(server.url));
    await other.sync.start();
    await t2.db.cards.put({ id: 'before', board: '1', title: 'follower, before hand-over' });
    await converged(t1);

    // The leader goes offline; the follower keeps writing into the shared outbox.
    t1.network.set(false);
    await until(t1.sync, (s) => s.phase === 'offline');
    await t2.db.cards.put({ id: 'queued', board: '1', title: 'queued while the leader was offline' });
    await t1.db.cards.put({ id: 'leader-queued', board: '1', title: 'queued by the old leader' });
    const queued = (await t2.db.table<OutboxEntry>(OUTBOX).orderBy('mid').toArray()).map((e) => e.mid);
    expect(queued).toEqual([2, 3]);

    await t1.sync.close();
    await until(t2.sync, (s) => s.isLeader && s.connected, 5_000);
    await t2.db.cards.put({ id: 'after', board: '1', title: 'after hand-over' });
    await converged(t2);
    await converged(other);
    expect(await other.db.cards.get('queued')).toMatchObject({
      title: 'queued while the leader was offline',
    });
    expect(await other.db.cards.get('leader-queued')).toMatchObject({ title: 'queued by the old leader' });
    expect(await other.db.cards.get('after')).toEqual({ id: 'after', board: '1', title: 'after hand-over' });

    const mids = (
      await changesBy(storage, t2.sync.clientId, ['before', 'queued', 'leader-queued', 'after'])
    ).map((h) => h.mid);
    expect(mids).toEqual([1, 2, 3, 4]);
    expect(overlaps()).toBe(0);

    // The new leader keeps syncing live: a remote change reaches it.
    await other.db.cards.put({ id: 'remote', board: '1', title: 'from another device' });
    await converged(other);
    await converged(t2);
    expect(await t2.db.cards.get('remote')).toEqual({
      id: 'remote',
      board: '1',
      title: 'from another device',
    });
  });

  it('a third tab queued behind the follower leads after both others close', async () => {
    server = await startServer();
    const election = memoryElection();
    const [t1, t2] = tabs(server.url, election);
    const t3 = track(device(server.url, { name: t1.db.name, election }));
    await t1.sync.start();
    await t2.sync.start();
    await t3.sync.start();
    await until(t1.sync, (s) => s.isLeader && settled(s));
    await t2.sync.close();
    // The closed follower left the queue; t1 still leads, t3 waits.
    expect((await firstValueFrom(t1.sync.status$)).isLeader).toBe(true);
    expect((await firstValueFrom(t3.sync.status$)).isLeader).toBe(false);
    await t1.sync.close();
    await until(t3.sync, (s) => s.isLeader && settled(s), 5_000);
    const other = track(device(server.url));
    await other.sync.start();
    await t3.db.cards.put({ id: 'c1', board: '1', title: 'from the third tab' });
    await converged(t3);
    await converged(other);
    expect(await other.db.cards.get('c1')).toEqual({ id: 'c1', board: '1', title: 'from the third tab' });
  });
});
