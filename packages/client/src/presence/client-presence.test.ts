import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '@syncline/protocol';
import { ClientPresence } from './client-presence.js';

function presence(): ClientPresence {
  return new ClientPresence({
    dbName: `presence-timer-${Math.random()}`,
    tab: 'tab-1',
    clientId: () => 'client-1234',
    now: () => Date.now(),
    limits: DEFAULT_LIMITS,
    requestTimeoutMs: 1000,
    onError: () => undefined,
  });
}

describe('ClientPresence heartbeat', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs no timer for a client that never uses presence, and stops once its presence is gone', async () => {
    const p = presence();
    p.start();
    p.lead(false, undefined);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(vi.getTimerCount()).toBe(0);

    p.set('board:1', { viewing: 'card-7' });
    expect(vi.getTimerCount()).toBe(1); // the heartbeat that keeps this tab's entry alive
    await vi.advanceTimersByTimeAsync(3_000);
    expect(vi.getTimerCount()).toBe(1);

    p.clear('board:1');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vi.getTimerCount()).toBe(0);

    const sub = p.members$('board:1').subscribe(() => undefined); // watching needs it too
    expect(vi.getTimerCount()).toBe(1);
    sub.unsubscribe();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(vi.getTimerCount()).toBe(0);
    p.stop();
  });
});
