import { afterEach, describe, expect, it } from 'vitest';
import { asScopeId, type SyncError } from '@syncline/protocol';
import { MemoryStorage, type AuthHooks, type Principal } from '@syncline/server';
import { converged, device, SCOPE, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer } from '@syncline/test-support/server';

// Issue 16, finding 1, the client's side: a client whose credentials expire refreshes them on
// the live socket (`reauth`) and keeps syncing, without reconnecting and without sending any
// acknowledged outbox entry again.

const servers: RunningServer[] = [];
const devices: Device[] = [];

afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  for (const s of servers.splice(0)) await s.stop();
});

/** Tokens are `user` (never expires) or `user@expiresAt`. */
const tokenAuth: AuthHooks = {
  authenticate: ({ token }): Principal | null => {
    if (token === undefined) return null;
    const [id, at] = token.split('@');
    return at === undefined ? { id: id! } : { id: id!, expiresAt: Number(at) };
  },
  authorize: () => true,
};

/** What the server saw of one user: connections, reauths and every mid pushed. */
function watchUser(server: RunningServer, userId: string) {
  const seen = { connections: 0, reauths: 0, mids: [] as number[], ended: [] as string[] };
  server.server.io.on('connection', (socket) => {
    if (socket.data.principal.id !== userId) return;
    seen.connections++;
    socket.onAny((event: string, req: { mutations?: { mid: number }[] }) => {
      if (event === 'reauth') seen.reauths++;
      if (event === 'push') for (const m of req.mutations ?? []) seen.mids.push(m.mid);
    });
    socket.onAnyOutgoing((event: string, err: SyncError) => {
      if (event === 'session_ended') seen.ended.push(err.code);
    });
  });
  return seen;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(): Promise<RunningServer> {
  const s = await startServer({ auth: tokenAuth, storage: new MemoryStorage() });
  servers.push(s);
  return s;
}

function track(d: Device): Device {
  devices.push(d);
  return d;
}

const LIFETIME_MS = 600;

describe('credential refresh', () => {
  it('keeps one connection across several expiries, with every write applied once and sent once', async () => {
    const server = await serve();
    const seen = watchUser(server, 'alice');
    let tokens = 0;
    const alice = track(
      device(server.url, {
        client: {
          token: () => {
            tokens++;
            return `alice@${Date.now() + LIFETIME_MS}`;
          },
        },
      }),
    );
    const bob = track(device(server.url, { client: { token: 'bob' } }));
    const errors: string[] = [];
    alice.sync.errors$.subscribe((e) => errors.push(e.code));
    await alice.sync.start();
    await bob.sync.start();
    await alice.db.cards.put({ id: 'c1', board: '1', title: 'counter', likes: 0 });

    // Writes for about four lifetimes.
    const started = Date.now();
    let incs = 0;
    while (Date.now() - started < LIFETIME_MS * 4) {
      await alice.sync.inc('cards', 'c1', 'likes', 1);
      incs++;
      await sleep(40);
    }
    await converged(alice);
    await converged(bob);

    expect(seen.connections).toBe(1);
    expect(seen.ended).toEqual([]);
    expect(seen.reauths).toBeGreaterThanOrEqual(3);
    // One token per connection and per reauth (a refresh may be under way as the test ends).
    expect(tokens - seen.reauths - 1).toBeGreaterThanOrEqual(0);
    expect(tokens - seen.reauths - 1).toBeLessThanOrEqual(1);
    expect(errors).toEqual([]);
    // Every outbox entry reached the server in exactly one push.
    expect(seen.mids).toHaveLength(incs + 1);
    expect(new Set(seen.mids).size).toBe(seen.mids.length);
    expect((await bob.db.cards.get('c1'))?.likes).toBe(incs);
    const record = await server.storage.getRecord(asScopeId(SCOPE), 'cards', 'c1');
    expect((record?.value as { likes: number }).likes).toBe(incs);
  });

  it('when refreshing fails, the server closes the socket at expiry and the client reconnects with a fresh token', async () => {
    const server = await serve();
    const seen = watchUser(server, 'alice');
    let connecting = true;
    const alice = track(
      device(server.url, {
        client: {
          // A token function that only works while connecting (an identity provider that was
          // down during the refreshes): the reconnect path takes over.
          token: () => {
            if (!connecting) throw new Error('identity provider unreachable');
            return `alice@${Date.now() + LIFETIME_MS}`;
          },
        },
      }),
    );
    const errors: string[] = [];
    alice.sync.errors$.subscribe((e) => errors.push(e.code));
    alice.sync.status$.subscribe((s) => (connecting = s.phase === 'connecting' || s.phase === 'backoff'));
    await alice.sync.start();
    await alice.db.cards.put({ id: 'c1', board: '1', title: 'counter', likes: 0 });
    const started = Date.now();
    let incs = 0;
    while (Date.now() - started < LIFETIME_MS * 2.5) {
      await alice.sync.inc('cards', 'c1', 'likes', 1);
      incs++;
      await sleep(40);
    }
    await converged(alice);

    expect(seen.connections).toBeGreaterThanOrEqual(3);
    expect(seen.ended.filter((c) => c === 'auth_expired').length).toBeGreaterThanOrEqual(2);
    expect(errors).toContain('auth_expired');
    const record = await server.storage.getRecord(asScopeId(SCOPE), 'cards', 'c1');
    expect((record?.value as { likes: number }).likes).toBe(incs);
  });
});
