import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PresenceMessage } from '@syncline/protocol';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';
import type { AuthHooks } from '../src/auth/auth.js';
import type { Timers } from '../src/ops/timers.js';
import { scrape } from './helpers/http.js';
import { tokenAuth } from './helpers/token-auth.js';

let running: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  running = undefined;
});

/** A raw client and every `presence` message it received. */
async function connect(token: string): Promise<{ c: TestClient; seen: PresenceMessage[] }> {
  const c = await TestClient.connect(running!.url, { token });
  clients.push(c);
  const seen: PresenceMessage[] = [];
  c.socket.on('presence', (m) => seen.push(m));
  return { c, seen };
}

/** Timers the test fires by hand, so the refresh runs without sleeping. */
class ManualTimers implements Timers {
  #next = 0;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): number {
    this.pending.set(++this.#next, { fn, ms });
    return this.#next;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Runs every pending timer scheduled with `ms`. */
  run(ms: number): void {
    for (const [id, t] of [...this.pending]) {
      if (t.ms !== ms) continue;
      this.pending.delete(id);
      t.fn();
    }
  }
}

/** Retries `check` until it stops throwing (5 s at most). */
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 5000, interval: 10 });

const entriesOf = (seen: PresenceMessage[]) => seen.flatMap((m) => m.entries);
const leftOf = (seen: PresenceMessage[]) => seen.flatMap((m) => m.left);

describe('presence', () => {
  it('shows a tab to watchers with the user the server authenticated, and a newcomer the current set', async () => {
    running = await startServer({ auth: tokenAuth });
    const bob = await connect('bob');
    expect(await bob.c.raw('presence_watch', { scope: 'team:a', watch: true })).toEqual({ ok: true });
    const alice = await connect('alice');
    const state = { user: 'mallory', viewing: 'card-1' };
    expect(await alice.c.raw('presence_set', { scope: 'team:a', tab: 't1', state })).toEqual({ ok: true });
    const expected = { user: 'alice', client: alice.c.clientId, tab: 't1', state };
    await eventually(() => expect(entriesOf(bob.seen)).toContainEqual(expected));
    // A newcomer gets the current entries at once (no refresh needed).
    const carol = await connect('bob');
    await carol.c.raw('presence_watch', { scope: 'team:a', watch: true });
    await eventually(() => expect(entriesOf(carol.seen)).toContainEqual(expected));
    expect(carol.seen[0]).toMatchObject({ scope: 'team:a', ttlMs: 5000, left: [] });
    // Another scope's watchers hear nothing of it.
    const other = await connect('bob');
    await other.c.raw('presence_watch', { scope: 'team:b', watch: true });
    await alice.c.raw('presence_set', { scope: 'team:a', tab: 't1', state: { editing: 'card-2' } });
    await eventually(() => expect(entriesOf(bob.seen).at(-1)?.state).toEqual({ editing: 'card-2' }));
    expect(other.seen).toEqual([]);
  });

  it('refuses a scope the principal may not subscribe to, and tells nobody', async () => {
    running = await startServer({ auth: tokenAuth });
    const bob = await connect('bob');
    await bob.c.raw('presence_watch', { scope: 'user:bob', watch: true });
    const alice = await connect('alice');
    for (const [event, payload] of [
      ['presence_set', { scope: 'user:bob', tab: 't1', state: 1 }],
      ['presence_watch', { scope: 'user:bob', watch: true }],
    ] as const) {
      expect(await alice.c.raw(event, payload)).toMatchObject({
        ok: false,
        error: { code: 'forbidden', retryable: false },
      });
    }
    // Bob's own entry reaches Bob but not Alice, who was refused the room.
    await bob.c.raw('presence_set', { scope: 'user:bob', tab: 't1', state: 2 });
    await eventually(() => expect(entriesOf(bob.seen)).toHaveLength(1));
    expect(entriesOf(bob.seen)[0]).toMatchObject({ user: 'bob', state: 2 });
    expect(alice.seen).toEqual([]);
  });

  it('refuses bad input, states over maxPresenceBytes, and entries over maxPresenceEntries', async () => {
    running = await startServer({
      auth: tokenAuth,
      limits: { maxPresenceBytes: 100, maxPresenceEntries: 2 },
    });
    const watcher = await connect('bob');
    await watcher.c.raw('presence_watch', { scope: 'team:a', watch: true });
    const alice = await connect('alice');
    const bad: [unknown, string][] = [
      [{ scope: 'team:a', tab: 't', state: 'x'.repeat(200) }, 'presence_too_large'],
      [{ scope: 'team:a', tab: '', state: 1 }, 'invalid_message'],
      [{ scope: 'team:a', tab: 't', state: 1, user: 'bob' }, 'invalid_message'],
      [{ scope: 'bad scope!', tab: 't', state: 1 }, 'invalid_message'],
      [JSON.parse('{"scope":"team:a","tab":"t","state":{"__proto__":{"x":1}}}'), 'forbidden_key'],
    ];
    for (const [payload, code] of bad) {
      expect(await alice.c.raw('presence_set', payload), JSON.stringify(payload)).toMatchObject({
        ok: false,
        error: { code },
      });
    }
    expect(await alice.c.raw('presence_set', { scope: 'team:a', tab: 't1', state: 1 })).toEqual({ ok: true });
    expect(await alice.c.raw('presence_set', { scope: 'team:b', tab: 't1', state: 1 })).toEqual({ ok: true });
    expect(await alice.c.raw('presence_set', { scope: 'team:c', tab: 't1', state: 1 })).toMatchObject({
      ok: false,
      error: { code: 'too_many_presence_entries' },
    });
    // Replacing an entry it holds is not a new one.
    expect(await alice.c.raw('presence_set', { scope: 'team:a', tab: 't1', state: 2 })).toEqual({ ok: true });
    await eventually(() => expect(entriesOf(watcher.seen).map((e) => e.state)).toEqual([1, 2]));
  });

  it('limits presence updates per socket (injected clock)', async () => {
    let now = 1_000_000;
    running = await startServer({
      auth: tokenAuth,
      clock: { now: () => now },
      limits: { presencePerSecond: 2, presenceBurst: 2 },
    });
    const alice = await connect('alice');
    const set = (state: number) => alice.c.raw('presence_set', { scope: 'team:a', tab: 't1', state });
    expect(await set(1)).toEqual({ ok: true });
    expect(await set(2)).toEqual({ ok: true });
    expect(await set(3)).toMatchObject({ ok: false, error: { code: 'rate_limited', retryable: true } });
    now += 500;
    expect(await set(4)).toEqual({ ok: true });
  });

  it('tells watchers when a tab leaves and when a socket disconnects', async () => {
    running = await startServer({ auth: tokenAuth });
    const bob = await connect('bob');
    await bob.c.raw('presence_watch', { scope: 'team:a', watch: true });
    const alice = await connect('alice');
    await alice.c.raw('presence_set', { scope: 'team:a', tab: 't1', state: 1 });
    await alice.c.raw('presence_set', { scope: 'team:a', tab: 't2', state: 2 });
    await alice.c.raw('presence_set', { scope: 'team:b', tab: 't1', state: 3 });
    const gauges = async () => {
      const m = await scrape(running!.url);
      return [m.value('syncline_presence_entries'), m.value('syncline_presence_scopes')];
    };
    expect(await gauges()).toEqual([3, 2]);
    expect(await alice.c.raw('presence_leave', { scope: 'team:a', tab: 't1' })).toEqual({ ok: true });
    const key = (tab: string) => ({ user: 'alice', client: alice.c.clientId, tab });
    await eventually(() => expect(leftOf(bob.seen)).toEqual([key('t1')]));
    expect(await gauges()).toEqual([2, 2]);
    alice.c.close();
    await eventually(() => expect(leftOf(bob.seen)).toEqual([key('t1'), key('t2')]));
    expect(await gauges()).toEqual([0, 0]);
    // Nothing of Alice is left for a newcomer.
    const late = await connect('bob');
    await late.c.raw('presence_watch', { scope: 'team:a', watch: true });
    await late.c.raw('presence_set', { scope: 'team:a', tab: 'x', state: 0 });
    await eventually(() => expect(entriesOf(late.seen)).toHaveLength(1));
    expect(entriesOf(late.seen)[0]?.user).toBe('bob');
  });

  it('re-sends its entries every refreshMs (each valid for ttlMs), and stops after unwatch', async () => {
    const timers = new ManualTimers();
    running = await startServer({ auth: tokenAuth, timers, presence: { refreshMs: 1000, ttlMs: 3000 } });
    const bob = await connect('bob');
    await bob.c.raw('presence_watch', { scope: 'team:a', watch: true });
    const alice = await connect('alice');
    await alice.c.raw('presence_set', { scope: 'team:a', tab: 't1', state: 1 });
    await eventually(() => expect(bob.seen).toHaveLength(1));
    timers.run(1000);
    await eventually(() => expect(bob.seen).toHaveLength(2));
    expect(bob.seen[1]).toEqual({
      scope: 'team:a',
      ttlMs: 3000,
      entries: [{ user: 'alice', client: alice.c.clientId, tab: 't1', state: 1 }],
      left: [],
    });
    expect(await bob.c.raw('presence_watch', { scope: 'team:a', watch: false })).toEqual({ ok: true });
    timers.run(1000);
    // Alice watches her own scope (a set watches it): her refresh arrives, Bob's does not.
    await eventually(() => expect(alice.seen.length).toBeGreaterThanOrEqual(3));
    expect(bob.seen).toHaveLength(2);
  });

  it('after reauth with fewer rights, stops showing the scope to the socket and withdraws its entries there', async () => {
    // Tokens `<user>:<scopes>`: the principal may use the listed scopes only.
    const scopedAuth: AuthHooks = {
      authenticate: ({ token }) => ({
        id: (token ?? '').split(':')[0]!,
        claims: { scopes: (token ?? '').split(':')[1]!.split(',') },
      }),
      authorize: (p, scope) => (p.claims?.['scopes'] as string[]).includes(scope),
    };
    running = await startServer({ auth: scopedAuth });
    const carol = await connect('carol:a,b');
    const dave = await connect('dave:a,b');
    await dave.c.raw('presence_watch', { scope: 'a', watch: true });
    await carol.c.raw('presence_set', { scope: 'a', tab: 't', state: 'in a' });
    await carol.c.raw('presence_set', { scope: 'b', tab: 't', state: 'in b' });
    await eventually(() => expect(entriesOf(dave.seen)).toHaveLength(1));
    expect(await carol.c.raw('reauth', { token: 'carol:b' })).toMatchObject({ ok: true });
    await eventually(() =>
      expect(leftOf(dave.seen)).toEqual([{ user: 'carol', client: carol.c.clientId, tab: 't' }]),
    );
    const before = carol.seen.length;
    await dave.c.raw('presence_set', { scope: 'a', tab: 'd', state: 'dave in a' });
    await dave.c.raw('presence_set', { scope: 'b', tab: 'd', state: 'dave in b' });
    await eventually(() => expect(carol.seen.slice(before).map((m) => m.scope)).toEqual(['b']));
  });

  it('refuses presence timing whose ttlMs does not exceed refreshMs', async () => {
    await expect(startServer({ presence: { refreshMs: 5000, ttlMs: 5000 } })).rejects.toThrow(
      /presence.*ttlMs must exceed refreshMs/,
    );
  });
});
