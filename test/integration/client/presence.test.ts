// Before dexie: Dexie picks up the global indexedDB when it loads.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryElection, type PresenceMember, type SyncClient } from '@syncline/client';
import { device, SCOPE, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer } from '@syncline/test-support/server';

let server: RunningServer | undefined;
const devices: Device[] = [];
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) s();
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
  server = undefined;
});

let names = 0;
function open(url: string, token: string, name?: string, election = memoryElection()): Device {
  const d = device(url, { client: { token }, ...(name !== undefined ? { name, election } : {}) });
  devices.push(d);
  return d;
}

/** The latest `presence$(SCOPE)` list of a client, kept current. */
function watch(sync: SyncClient): { readonly now: PresenceMember[] } {
  const box = { now: [] as PresenceMember[] };
  const sub = sync.presence$(SCOPE).subscribe((m) => (box.now = m));
  stops.push(() => sub.unsubscribe());
  return box;
}

const eventually = (check: () => void) => vi.waitFor(check, { timeout: 8000, interval: 20 });
const others = (list: PresenceMember[]) => list.filter((m) => !m.self);

describe('presence through the real client', () => {
  it('shows another device, marks self, and re-announces after a reconnect', async () => {
    server = await startServer({ presence: { refreshMs: 300, ttlMs: 1000 } });
    const a = open(server.url, 'alice');
    const b = open(server.url, 'bob');
    await Promise.all([a.sync.start(), b.sync.start()]);
    const seenByB = watch(b.sync);
    const seenByA = watch(a.sync);
    a.sync.setPresence(SCOPE, { viewing: 'card-1' });
    // Its own entry shows at once, marked self.
    expect(seenByA.now).toEqual([expect.objectContaining({ self: true, state: { viewing: 'card-1' } })]);
    await eventually(() =>
      expect(seenByB.now).toEqual([
        expect.objectContaining({
          user: 'alice',
          clientId: a.sync.clientId,
          state: { viewing: 'card-1' },
          self: false,
        }),
      ]),
    );
    // The server confirms who this tab is.
    await eventually(() => expect(seenByA.now[0]?.user).toBe('alice'));
    a.sync.setPresence(SCOPE, { editing: 'card-2' });
    await eventually(() => expect(seenByB.now[0]?.state).toEqual({ editing: 'card-2' }));

    // Offline: the server drops A's socket, B sees A leave; back online, A announces again.
    a.network.set(false);
    await eventually(() => expect(seenByB.now).toEqual([]));
    expect(others(seenByA.now)).toEqual([]);
    a.network.set(true);
    await eventually(() => expect(seenByB.now.map((m) => m.state)).toEqual([{ editing: 'card-2' }]));
    // And A, watching again, sees B once B publishes.
    b.sync.setPresence(SCOPE, { viewing: 'card-3' });
    await eventually(() => expect(others(seenByA.now).map((m) => m.user)).toEqual(['bob']));
    a.sync.clearPresence(SCOPE);
    await eventually(() => expect(others(seenByB.now)).toEqual([]));
  });

  it('routes a follower tab through the leader: each tab is its own entry, and leaves on stop', async () => {
    server = await startServer();
    const name = `presence-tabs-${process.pid}-${++names}`;
    const election = memoryElection();
    const leader = open(server.url, 'alice', name, election);
    const follower = open(server.url, 'alice', name, election);
    const bob = open(server.url, 'bob');
    await leader.sync.start();
    await follower.sync.start();
    await bob.sync.start();
    const seenByBob = watch(bob.sync);
    const seenByFollower = watch(follower.sync);
    leader.sync.setPresence(SCOPE, 'leader tab');
    follower.sync.setPresence(SCOPE, 'follower tab');
    bob.sync.setPresence(SCOPE, 'bob');
    await eventually(() =>
      expect(seenByBob.now.map((m) => m.state).sort()).toEqual(['bob', 'follower tab', 'leader tab']),
    );
    const tabs = others(seenByBob.now).map((m) => m.tab);
    expect(new Set(tabs).size).toBe(2);
    expect(new Set(others(seenByBob.now).map((m) => m.clientId))).toEqual(new Set([leader.sync.clientId]));
    // The follower sees Bob and the leader tab (same device) through the leader's socket.
    await eventually(() =>
      expect(
        others(seenByFollower.now)
          .map((m) => [m.state, m.sameDevice])
          .sort(),
      ).toEqual([
        ['bob', false],
        ['leader tab', true],
      ]),
    );
    follower.sync.clearPresence(SCOPE);
    await eventually(() => expect(others(seenByBob.now).map((m) => m.state)).toEqual(['leader tab']));
    follower.sync.setPresence(SCOPE, 'back');
    await eventually(() => expect(others(seenByBob.now)).toHaveLength(2));
    await follower.sync.stop();
    await eventually(() => expect(others(seenByBob.now).map((m) => m.state)).toEqual(['leader tab']));
  });

  it('when the leader tab stops, the next leader announces the remaining tab again', async () => {
    server = await startServer();
    const name = `presence-handover-${process.pid}-${++names}`;
    const election = memoryElection();
    const first = open(server.url, 'alice', name, election);
    const second = open(server.url, 'alice', name, election);
    const bob = open(server.url, 'bob');
    await first.sync.start();
    await second.sync.start();
    await bob.sync.start();
    const seenByBob = watch(bob.sync);
    first.sync.setPresence(SCOPE, 'first');
    second.sync.setPresence(SCOPE, 'second');
    await eventually(() => expect(seenByBob.now.map((m) => m.state).sort()).toEqual(['first', 'second']));
    // The leader's socket carried both entries; the new leader's socket carries the one left.
    await first.sync.stop();
    await eventually(() => expect(seenByBob.now.map((m) => m.state)).toEqual(['second']));
  });

  it('refuses a state over maxPresenceBytes before sending it', async () => {
    server = await startServer();
    const a = open(server.url, 'alice');
    await a.sync.start();
    expect(() => a.sync.setPresence(SCOPE, 'x'.repeat(5000))).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
  });
});
