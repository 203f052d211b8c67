/**
 * The credential refresh (protocol 4): its pure decisions, and the refresher against a stub
 * socket with fake timers (no server, no sleeps).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReauthResponse, SyncError } from '@syncline/protocol';
import {
  CredentialRefresh,
  MAX_RETRY_MS,
  MIN_RETRY_LEFT_MS,
  refreshDelay,
  retryDelay,
} from '../src/engine/credential-refresh.js';
import type { ClientSocket } from '../src/engine/transport.js';

describe('refresh decisions', () => {
  it('refreshes at 80 % of the lifetime measured on the server clock, never for no expiry', () => {
    expect(refreshDelay({ expiresAt: 11_000, serverTime: 1_000 })).toBe(8_000);
    // The client's own clock plays no part: only expiresAt - serverTime does.
    expect(refreshDelay({ expiresAt: 1e12 + 500, serverTime: 1e12 })).toBe(400);
    expect(refreshDelay({ expiresAt: 900, serverTime: 1_000 })).toBe(0);
    expect(refreshDelay({ expiresAt: null, serverTime: 1_000 })).toBeUndefined();
    expect(refreshDelay({ expiresAt: 2_000, serverTime: 1_000 }, 0.5)).toBe(500);
    for (const expiresAt of [Number.NaN, Number.POSITIVE_INFINITY, '2030-01-01' as unknown as number]) {
      expect(refreshDelay({ expiresAt, serverTime: 1_000 })).toBeUndefined();
    }
  });

  it('retries at half the time left, capped, and gives up close to expiry', () => {
    expect(retryDelay(60_000)).toBe(MAX_RETRY_MS);
    expect(retryDelay(2_000)).toBe(1_000);
    expect(retryDelay(MIN_RETRY_LEFT_MS)).toBe(MIN_RETRY_LEFT_MS / 2);
    expect(retryDelay(MIN_RETRY_LEFT_MS - 1)).toBeUndefined();
    expect(retryDelay(-5)).toBeUndefined();
  });
});

/** A connected socket whose `reauth` answers come from `answer`. */
function stubSocket(answer: (token: string) => ReauthResponse) {
  const sent: string[] = [];
  const socket = {
    connected: true,
    timeout: () => ({
      emitWithAck: (event: string, req: { token: string }) => {
        expect(event).toBe('reauth');
        sent.push(req.token);
        return Promise.resolve(answer(req.token));
      },
    }),
  } as unknown as ClientSocket;
  return { socket, sent };
}

describe('CredentialRefresh', () => {
  let now = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 1_000;
  });
  afterEach(() => vi.useRealTimers());

  const advance = async (ms: number) => {
    now += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };

  it('sends a fresh token before each expiry and follows the new expiry', async () => {
    let n = 0;
    const { socket, sent } = stubSocket(() => ({ ok: true, expiresAt: now + 1_000, serverTime: now }));
    const errors: SyncError[] = [];
    const refresh = new CredentialRefresh({
      token: () => `t${++n}`,
      requestTimeoutMs: 1_000,
      now: () => now,
      report: (e) => errors.push(e),
    });
    refresh.attach(socket, { expiresAt: now + 1_000, serverTime: now });
    await advance(799);
    expect(sent).toEqual([]);
    await advance(1);
    expect(sent).toEqual(['t1']);
    await advance(800);
    expect(sent).toEqual(['t1', 't2']);
    refresh.detach();
    await advance(5_000);
    expect(sent).toEqual(['t1', 't2']);
    expect(errors).toEqual([]);
  });

  it('never refreshes a fixed token or credentials that do not expire', async () => {
    const { socket, sent } = stubSocket(() => ({ ok: true, expiresAt: null, serverTime: now }));
    const fixed = new CredentialRefresh({
      token: 'static',
      requestTimeoutMs: 1_000,
      now: () => now,
      report: () => {},
    });
    fixed.attach(socket, { expiresAt: now + 1_000, serverTime: now });
    const forever = new CredentialRefresh({
      token: () => 't',
      requestTimeoutMs: 1_000,
      now: () => now,
      report: () => {},
    });
    forever.attach(socket, { expiresAt: null, serverTime: now });
    await advance(10_000);
    expect(sent).toEqual([]);
  });

  it('reports a refused refresh and retries while time is left, then leaves it to the reconnect', async () => {
    const { socket, sent } = stubSocket(() => ({
      ok: false,
      error: { code: 'unauthenticated', message: 'no', retryable: false },
    }));
    const errors: string[] = [];
    const refresh = new CredentialRefresh({
      token: () => 't',
      requestTimeoutMs: 1_000,
      now: () => now,
      report: (e) => errors.push(e.code),
    });
    refresh.attach(socket, { expiresAt: now + 10_000, serverTime: now });
    await advance(8_000); // first try at 8 s: 2 s left → retry in 1 s
    expect(sent).toHaveLength(1);
    await advance(1_000); // 1 s left → retry in 500 ms
    expect(sent).toHaveLength(2);
    await advance(500); // 500 ms left → retry in 250 ms
    expect(sent).toHaveLength(3);
    await advance(250); // 250 ms left: give up
    expect(sent).toHaveLength(4);
    await advance(5_000);
    expect(sent).toHaveLength(4);
    expect(errors).toEqual(['unauthenticated', 'unauthenticated', 'unauthenticated', 'unauthenticated']);
  });

  it('drops the answer of a connection that was replaced meanwhile', async () => {
    let release!: (t: string) => void;
    const pending = new Promise<string>((r) => (release = r));
    const first = stubSocket(() => ({ ok: true, expiresAt: now + 1_000, serverTime: now }));
    const refresh = new CredentialRefresh({
      token: () => pending,
      requestTimeoutMs: 1_000,
      now: () => now,
      report: () => {},
    });
    refresh.attach(first.socket, { expiresAt: now + 1_000, serverTime: now });
    await advance(800); // asks for a token, which is slow to come
    refresh.detach();
    release('late');
    await advance(10);
    expect(first.sent).toEqual([]);
  });
});
