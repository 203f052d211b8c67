// A leader tab that makes no progress (frozen or hung: its lease is not renewed, it pushes
// nothing) is taken over by a follower with pending writes; the old leader, when it runs again,
// steps down without sending a push. Two "tabs" share one fake-indexeddb database and one
// in-process election (see multitab.test.ts); the hung leader is modelled by a heartbeat that
// never comes (`heartbeatMs` of a minute) and its network switched off.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryElection, type LeaderElection } from '@syncline/client';
import { eventually } from '@syncline/test-support';
import { device, settled, until, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer } from '@syncline/test-support/server';

/** Followers look every 50 ms and take over a lease 300 ms old. */
const FAST = { heartbeatMs: 50, staleAfterMs: 300 };
/** A leader whose heartbeat never comes within a test: it looks frozen to the others. */
const HUNG = { heartbeatMs: 60_000, staleAfterMs: 300 };

let server: RunningServer | undefined;
const devices: Device[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
  server = undefined;
});

/** Every push frame the server received: its mids, in arrival order. */
async function serverCountingPushes(): Promise<{ url: string; pushes: number[][] }> {
  const pushes: number[][] = [];
  server = await startServer();
  server.server.io.on('connection', (socket) =>
    socket.onAny((event: string, payload: { mutations?: { mid: number }[] }) => {
      if (event === 'push') pushes.push((payload.mutations ?? []).map((m) => m.mid));
    }),
  );
  return { url: server.url, pushes };
}

let sets = 0;
function tab(url: string, name: string, election: LeaderElection, lease: typeof FAST, online = true) {
  const d = device(url, { name, election, online, client: { leaderLease: lease } });
  devices.push(d);
  return d;
}

/** Wraps an election so that `onLost` is never delivered: a tab that learns only from the fence. */
function deafToLoss(inner: LeaderElection): LeaderElection {
  return { campaign: (name, onLeader) => inner.campaign(name, onLeader) };
}

const card = (i: number) => ({ id: `c${i}`, board: '1', title: `burst ${i}` });

describe('a leader that makes no progress', () => {
  it('is taken over by a follower with pending writes, which pushes them; the old leader steps down', async () => {
    const { url, pushes } = await serverCountingPushes();
    const name = `lease-${process.pid}-${++sets}`;
    const election = memoryElection();
    const leader = tab(url, name, election, HUNG);
    const follower = tab(url, name, election, FAST);
    await leader.sync.start();
    await until(leader.sync, (s) => s.isLeader && settled(s));
    await follower.sync.start();

    leader.network.set(false); // the hung leader pushes nothing
    await until(leader.sync, (s) => s.phase === 'offline');
    const startedAt = Date.now();
    for (let i = 0; i < 5; i++) await follower.db.cards.put(card(i));

    await until(follower.sync, (s) => s.isLeader && s.pending === 0, 5_000);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    await until(leader.sync, (s) => !s.isLeader, 2_000);
    const observer = device(url);
    devices.push(observer);
    await observer.sync.start();
    await eventually(async () => (await observer.db.cards.count()) === 5, 'the burst reaches another device');
    // Each mid went out once, in order.
    expect(pushes.flat()).toEqual([1, 2, 3, 4, 5]);
  });

  it('when it runs again, is fenced by the lease and sends nothing, even before it hears it lost', async () => {
    const { url, pushes } = await serverCountingPushes();
    const name = `lease-${process.pid}-${++sets}`;
    const election = memoryElection();
    const leader = tab(url, name, deafToLoss(election), HUNG);
    // The follower stays offline after taking over: the pending writes stay in the outbox for
    // the old leader to (wrongly) push when it wakes.
    const follower = tab(url, name, election, FAST, false);
    await leader.sync.start();
    await until(leader.sync, (s) => s.isLeader && settled(s));
    await follower.sync.start();

    leader.network.set(false);
    await until(leader.sync, (s) => s.phase === 'offline');
    for (let i = 0; i < 3; i++) await follower.db.cards.put(card(i));
    await until(follower.sync, (s) => s.isLeader, 5_000);

    // The old leader wakes: online again, still believing it leads (it never heard of the loss).
    leader.network.set(true);
    await until(leader.sync, (s) => !s.isLeader, 5_000);
    expect(pushes.flat()).toEqual([]);

    // The new leader goes online and pushes the burst, each mid once.
    follower.network.set(true);
    await until(follower.sync, (s) => s.isLeader && s.pending === 0 && s.connected, 5_000);
    expect(pushes.flat()).toEqual([1, 2, 3]);
  });
});
