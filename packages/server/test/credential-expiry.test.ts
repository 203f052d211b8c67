import { afterEach, describe, expect, it } from 'vitest';
import { asScopeId, type SessionEnded } from '@syncline/protocol';
import type { AuthHooks, Principal } from '../src/auth/auth.js';
import type { Timers } from '../src/ops/timers.js';
import { startServer, TestClient, type RunningServer, type TestSocket } from '@syncline/test-support/server';
import { expectError, expectResults, nextDisconnect, pushRaw, putMutation } from './helpers/bad-input.js';

// Finding 1 of issue 16: a socket whose credentials expire must lose its access at once, not
// only when it next sends; `reauth` renews them on the live socket; `revoke` ends them now.

let running: RunningServer | undefined;
const sockets: { close(): void }[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await running?.stop();
  running = undefined;
});

/** Tokens are `user` (never expires) or `user@expiresAt`; `bad` is refused. */
const tokenAuth: AuthHooks = {
  authenticate: ({ token }): Principal | null => {
    if (token === undefined || token === 'bad') return null;
    const [id, at] = token.split('@');
    return at === undefined ? { id: id! } : { id: id!, expiresAt: Number(at) };
  },
  authorize: () => true,
};

/** Timers the test fires by hand (with the clock it moves), so nothing sleeps. */
class ManualTimers implements Timers {
  #next = 0;
  readonly pending = new Map<number, { fn: () => void; at: number }>();
  constructor(private readonly now: () => number) {}
  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.#next;
    this.pending.set(id, { fn, at: this.now() + ms });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Runs every timer due by now. */
  runDue(): void {
    for (const [id, t] of [...this.pending]) {
      if (t.at > this.now()) continue;
      this.pending.delete(id);
      t.fn();
    }
  }
}

const T0 = 1_700_000_000_000;

async function connect(url: string, token: string): Promise<TestClient> {
  const c = await TestClient.connect(url, { token });
  sockets.push(c.socket);
  return c;
}

function endedReasons(socket: TestSocket): SessionEnded[] {
  const seen: SessionEnded[] = [];
  socket.on('session_ended', (e) => seen.push(e));
  return seen;
}

const waitMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('credential expiry on live sockets', () => {
  it('sends no changes to a silent subscribed socket after its expiresAt, and closes it', async () => {
    let t = T0;
    running = await startServer({ auth: tokenAuth, clock: { now: () => t } });
    const carol = await connect(running.url, `carol@${T0 + 2_500}`);
    const alice = await connect(running.url, 'alice');
    const ended = endedReasons(carol.socket);
    expect((await carol.subscribe('team:a')).ok).toBe(true);

    t = T0 + 1_000;
    await alice.write({
      op: 'put',
      scope: 'team:a',
      collection: 'notes',
      id: 'n1',
      value: { n: 1 },
      base: 0,
    });
    await expect.poll(() => carol.changes.length).toBe(1);

    // 3.5 s in, carol never sent anything since; her expiry timer (2.5 s of real time) has not
    // fired, yet the next broadcast must not reach her.
    t = T0 + 3_500;
    const disconnected = nextDisconnect(carol.socket);
    await alice.write({
      op: 'put',
      scope: 'team:a',
      collection: 'notes',
      id: 'n2',
      value: { n: 2 },
      base: 0,
    });
    expect(await disconnected).toBe('io server disconnect');
    expect(carol.changes).toHaveLength(1);
    expect(ended.map((e) => e.code)).toEqual(['auth_expired']);
    expect(await running.storage.head(asScopeId('team:a'))).toBe(2);
  });

  it('closes a silent socket at expiresAt through its timer, with nobody sending', async () => {
    let t = T0;
    const timers = new ManualTimers(() => t);
    running = await startServer({ auth: tokenAuth, clock: { now: () => t }, timers });
    const carol = await connect(running.url, `carol@${T0 + 2_500}`);
    const alice = await connect(running.url, 'alice');
    const ended = endedReasons(carol.socket);
    await carol.subscribe('team:a');

    t = T0 + 2_499;
    timers.runDue();
    await waitMs(50);
    expect(carol.socket.connected).toBe(true);

    const disconnected = nextDisconnect(carol.socket);
    t = T0 + 2_500;
    timers.runDue();
    expect(await disconnected).toBe('io server disconnect');
    expect(ended.map((e) => e.code)).toEqual(['auth_expired']);
    expect(alice.socket.connected).toBe(true);
  });

  it('cuts a wait longer than a Node timer can hold into pieces instead of firing at once', async () => {
    const t = T0;
    const timers = new ManualTimers(() => t);
    running = await startServer({ auth: tokenAuth, clock: { now: () => t }, timers });
    const far = await connect(running.url, `carol@${T0 + 40 * 86_400_000}`);
    const delays = [...timers.pending.values()].map((p) => p.at - t);
    expect(delays.some((d) => d === 2 ** 31 - 1)).toBe(true);
    expect(far.socket.connected).toBe(true);
  });
});

describe('broken expiry from the authenticate hook', () => {
  it('closes a socket whose expiresAt is not a time (fail closed), without a timer loop', async () => {
    const t = T0;
    const timers = new ManualTimers(() => t);
    const nanAuth: AuthHooks = {
      authenticate: () => ({ id: 'nan', expiresAt: Number.NaN }),
      authorize: () => true,
    };
    running = await startServer({ auth: nanAuth, clock: { now: () => t }, timers });
    const c = await TestClient.connect(running.url, { token: 'x' });
    sockets.push(c.socket);
    if (c.socket.connected) expect(await nextDisconnect(c.socket)).toBe('io server disconnect');
    expect(timers.pending.size).toBe(0);
  });
});

describe('reauth', () => {
  it('renews the expiry on the live socket: it stays subscribed and is closed at the new time', async () => {
    let t = T0;
    const timers = new ManualTimers(() => t);
    running = await startServer({ auth: tokenAuth, clock: { now: () => t }, timers });
    const carol = await connect(running.url, `carol@${T0 + 2_500}`);
    const alice = await connect(running.url, 'alice');
    await carol.subscribe('team:a');

    t = T0 + 2_000;
    const res: unknown = await carol.socket
      .timeout(5_000)
      .emitWithAck('reauth', { token: `carol@${T0 + 5_000}` });
    expect(res).toEqual({ ok: true, expiresAt: T0 + 5_000, serverTime: T0 + 2_000 });

    t = T0 + 3_000; // past the old expiry
    timers.runDue();
    await alice.write({
      op: 'put',
      scope: 'team:a',
      collection: 'notes',
      id: 'n1',
      value: { n: 1 },
      base: 0,
    });
    await expect.poll(() => carol.changes.length).toBe(1);
    expect(carol.socket.connected).toBe(true);
    expect(expectResults(await pushRaw(carol, [putMutation(1, 'team:a', 'c1', { n: 1 })]))).toHaveLength(1);

    const disconnected = nextDisconnect(carol.socket);
    t = T0 + 5_000;
    timers.runDue();
    expect(await disconnected).toBe('io server disconnect');
  });

  it('refuses bad, expired, malformed or another user’s credentials and keeps the old ones', async () => {
    let t = T0;
    running = await startServer({ auth: tokenAuth, clock: { now: () => t } });
    const carol = await connect(running.url, `carol@${T0 + 2_500}`);
    const ask = (req: unknown) => carol.socket.timeout(5_000).emitWithAck('reauth', req as never);
    expectError(await ask({ token: 'bad' }), 'unauthenticated');
    expectError(await ask({ token: 'mallory' }), 'client_id_mismatch');
    expectError(await ask({ token: `carol@${T0 - 1}` }), 'auth_expired');
    expectError(await ask({ token: 42 }), 'invalid_message');
    expectError(await ask({ token: 'carol', extra: 1 }), 'invalid_message');
    expect(carol.socket.connected).toBe(true);
    // Still carol with the old expiry: the next event past it is refused and closes the socket.
    t = T0 + 2_500;
    const disconnected = nextDisconnect(carol.socket);
    expectError(await carol.pull('team:a'), 'auth_expired');
    expect(await disconnected).toBe('io server disconnect');
  });
});

describe('reauth with fewer rights', () => {
  it('leaves the scope rooms the new claims do not allow, and keeps the others', async () => {
    // Tokens `<user>:<scopes>`: the principal may use the listed scopes only.
    const scopedAuth: AuthHooks = {
      authenticate: ({ token }) => ({
        id: (token ?? '').split(':')[0]!,
        claims: { scopes: (token ?? '').split(':')[1]!.split(',') },
      }),
      authorize: (p, scope) => (p.claims?.scopes as string[]).includes(scope),
    };
    running = await startServer({ auth: scopedAuth });
    const carol = await connect(running.url, 'carol:a,b');
    const writer = await TestClient.connect(running.url, { token: 'w:a,b' });
    sockets.push(writer.socket);
    expect((await carol.subscribe('a', 'b')).ok).toBe(true);
    const res: unknown = await carol.socket.timeout(5_000).emitWithAck('reauth', { token: 'carol:b' });
    expect(res).toMatchObject({ ok: true });
    await writer.write({ op: 'put', scope: 'a', collection: 'notes', id: 'n1', value: { n: 1 }, base: 0 });
    await writer.write({ op: 'put', scope: 'b', collection: 'notes', id: 'n2', value: { n: 2 }, base: 0 });
    await expect.poll(() => carol.changes.length).toBe(1);
    await waitMs(50);
    expect(carol.changes.map((m) => m.scope)).toEqual(['b']);
    expectError(await carol.pull('a'), 'forbidden');
  });
});

describe('revoke', () => {
  it('closes every socket of the user now, with access_revoked, and nobody else’s', async () => {
    running = await startServer({ auth: tokenAuth });
    const a1 = await connect(running.url, 'alice');
    const a2 = await connect(running.url, 'alice');
    const bob = await connect(running.url, 'bob');
    await bob.subscribe('team:a');
    await a1.subscribe('team:a');
    const ended = [endedReasons(a1.socket), endedReasons(a2.socket)];
    const gone = [nextDisconnect(a1.socket), nextDisconnect(a2.socket)];

    expect(running.server.revoke({ userId: 'alice' })).toEqual({ localSockets: 2 });
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    expect(ended.map((e) => e.map((x) => x.code))).toEqual([['access_revoked'], ['access_revoked']]);

    const writer = await connect(running.url, 'dave');
    await writer.write({
      op: 'put',
      scope: 'team:a',
      collection: 'notes',
      id: 'n1',
      value: { n: 1 },
      base: 0,
    });
    await expect.poll(() => bob.changes.length).toBe(1);
    expect(a1.changes).toHaveLength(0);
    expect(bob.socket.connected).toBe(true);
    expect(running.server.revoke({ userId: 'nobody' })).toEqual({ localSockets: 0 });
  });
});
