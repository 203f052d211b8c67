import { describe, expect, it } from 'vitest';
import type { ClientSocket } from '../engine/transport.js';
import { PresenceLink, type HeldEntry } from './presence-link.js';

/** A connected socket that records what is sent and lets the test deliver `presence` messages. */
function fakeSocket(answer: (event: string) => unknown = () => ({ ok: true })) {
  const sent: { event: string; payload: unknown }[] = [];
  const listeners = new Map<string, (msg: unknown) => void>();
  const socket = {
    connected: true,
    on: (e: string, f: (msg: unknown) => void) => listeners.set(e, f),
    off: (e: string) => listeners.delete(e),
    timeout: () => ({
      emitWithAck: (event: string, payload: unknown) => {
        sent.push({ event, payload });
        return Promise.resolve(answer(event));
      },
    }),
  };
  const deliver = (msg: unknown) => listeners.get('presence')?.(msg);
  return { socket: socket as unknown as ClientSocket, sent, deliver, listeners };
}

const entry = (tab: string, state: unknown) => ({ user: 'u', client: 'client-1234', tab, state });

function link(now: () => number) {
  const views: [string, readonly HeldEntry[]][] = [];
  const l = new PresenceLink({
    now,
    requestTimeoutMs: 1000,
    onView: (scope, entries) => views.push([scope, entries]),
    onError: () => undefined,
  });
  return { l, views };
}

describe('PresenceLink', () => {
  it('sends only what changed, and everything again on a new socket', () => {
    const { l } = link(() => 0);
    const a = fakeSocket();
    l.attach(a.socket);
    const desired = { entries: new Map([['s', new Map([['t1', 1]])]]), watching: new Set(['s']) };
    expect(l.sync(desired)).toBe(2);
    expect(l.sync(desired)).toBe(0);
    expect(a.sent.map((s) => s.event)).toEqual(['presence_watch', 'presence_set']);
    expect(l.sync({ entries: new Map(), watching: new Set() })).toBe(2);
    expect(a.sent.slice(2)).toEqual([
      { event: 'presence_watch', payload: { scope: 's', watch: false } },
      { event: 'presence_leave', payload: { scope: 's', tab: 't1' } },
    ]);
    const b = fakeSocket();
    l.attach(b.socket);
    expect(l.sync(desired)).toBe(2);
  });

  it('drops an entry not re-sent within ttlMs, keeps a refreshed one, and applies leaves', () => {
    let now = 1000;
    const { l, views } = link(() => now);
    const s = fakeSocket();
    l.attach(s.socket);
    l.sync({ entries: new Map(), watching: new Set(['s']) });
    s.deliver({ scope: 's', ttlMs: 500, entries: [entry('a', 1), entry('b', 2)], left: [] });
    expect(l.view('s').map((h) => h.entry.tab)).toEqual(['a', 'b']);
    now = 1400;
    s.deliver({ scope: 's', ttlMs: 500, entries: [entry('a', 1)], left: [] }); // a refreshed
    now = 1500;
    l.prune();
    expect(l.view('s').map((h) => h.entry.tab)).toEqual(['a']);
    s.deliver({
      scope: 's',
      ttlMs: 500,
      entries: [],
      left: [{ user: 'u', client: 'client-1234', tab: 'a' }],
    });
    expect(l.view('s')).toEqual([]);
    expect(views.at(-1)).toEqual(['s', []]);
  });

  it('ignores malformed messages and scopes it does not watch; forgets everything without a socket', () => {
    const { l, views } = link(() => 0);
    const s = fakeSocket();
    l.attach(s.socket);
    l.sync({ entries: new Map(), watching: new Set(['s']) });
    s.deliver({ scope: 's', ttlMs: 'soon', entries: [], left: [] });
    s.deliver({ scope: 'other', ttlMs: 500, entries: [entry('a', 1)], left: [] });
    expect(views).toEqual([]);
    s.deliver({ scope: 's', ttlMs: 500, entries: [entry('a', 1)], left: [] });
    l.attach(undefined);
    expect(views.at(-1)).toEqual(['s', []]);
    expect(s.listeners.has('presence')).toBe(false);
  });

  it('stops asking a server that answers unknown_event', async () => {
    const { l } = link(() => 0);
    const s = fakeSocket(() => ({
      ok: false,
      error: { code: 'unknown_event', message: 'x', retryable: false },
    }));
    l.attach(s.socket);
    l.sync({ entries: new Map(), watching: new Set(['s']) });
    await Promise.resolve();
    await Promise.resolve();
    expect(l.sync({ entries: new Map(), watching: new Set(['s', 't']) })).toBe(0);
  });
});
