import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { unlessAborted } from './broker-calls.js';

/** The abort listeners a signal holds, as Node counts them. */
const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('unlessAborted', () => {
  it('answers like the call and leaves no listener behind, however many calls a sink makes', async () => {
    const stop = new AbortController();
    for (let i = 0; i < 50; i++) expect(await unlessAborted(stop.signal, Promise.resolve(i))).toBe(i);
    await expect(unlessAborted(stop.signal, Promise.reject(new Error('nack')))).rejects.toThrow('nack');
    expect(abortListeners(stop.signal)).toBe(0);
  });

  it('rejects at once when aborted while the call hangs, and at once when already aborted', async () => {
    const stop = new AbortController();
    const hung = unlessAborted(stop.signal, new Promise<never>(() => undefined));
    stop.abort();
    await expect(hung).rejects.toThrow('sink stopped');
    await expect(unlessAborted(stop.signal, Promise.resolve(1))).rejects.toThrow('sink stopped');
  });
});
