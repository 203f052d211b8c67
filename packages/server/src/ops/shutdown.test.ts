import { describe, expect, it } from 'vitest';
import { Shutdown } from './shutdown.js';

describe('Shutdown', () => {
  it('begins once: flags closing and aborts the signal', () => {
    const s = new Shutdown();
    expect(s.closing).toBe(false);
    expect(s.signal.aborted).toBe(false);
    expect(s.begin()).toBe(true);
    expect(s.closing).toBe(true);
    expect(s.signal.aborted).toBe(true);
    expect(s.begin()).toBe(false);
  });

  it('drains only once tracked work has settled, failures included', async () => {
    const s = new Shutdown();
    let resolveOk!: () => void;
    let rejectBad!: (err: Error) => void;
    const ok = new Promise<void>((r) => (resolveOk = r));
    const bad = new Promise<void>((_, r) => (rejectBad = r));
    bad.catch(() => undefined);
    s.track(ok);
    s.track(bad);
    let drained = false;
    const drain = s.drain().then(() => (drained = true));
    resolveOk();
    await ok;
    await Promise.resolve();
    expect(drained).toBe(false);
    rejectBad(new Error('boom'));
    await drain;
    expect(drained).toBe(true);
  });

  it('drains at once with nothing in flight, and forgets settled work', async () => {
    const s = new Shutdown();
    const done = Promise.resolve();
    s.track(done);
    await s.drain();
    s.track(new Promise(() => undefined));
    let drained = false;
    void s.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
  });
});
