import { afterEach, describe, expect, it } from 'vitest';
import { lastValueFrom } from 'rxjs';
import { device, until, settled } from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('client lifecycle', () => {
  it('completes its observables on close, also for subscribers that arrive afterwards', async () => {
    server = await startServer();
    const d = device(server.url);
    const values: string[] = [];
    let completed = false;
    d.sync.status$.subscribe({ next: (s) => values.push(s.phase), complete: () => (completed = true) });
    await d.sync.start();
    await until(d.sync, settled);
    await d.sync.close();
    expect(completed).toBe(true);
    expect(values).toContain('live');
    expect(values[values.length - 1]).toBe('stopped');
    // A late subscriber is not left waiting forever.
    const late = await lastValueFrom(d.sync.status$, { defaultValue: null });
    expect(late?.phase ?? 'completed').toBeDefined();
    await expect(lastValueFrom(d.sync.conflicts$, { defaultValue: [] })).resolves.toBeDefined();
    await expect(lastValueFrom(d.sync.outbox$, { defaultValue: [] })).resolves.toBeDefined();
  });
});
