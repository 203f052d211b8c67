import { afterEach, describe, expect, it } from 'vitest';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';

let running: RunningServer;
afterEach(async () => running?.stop());

describe('smoke', () => {
  it('pushes, broadcasts and pulls', async () => {
    running = await startServer();
    const a = await TestClient.connect(running.url);
    const b = await TestClient.connect(running.url);
    await b.subscribe('team:a');
    const results = await a.write({
      scope: 'team:a',
      collection: 'cards',
      id: 'c1',
      op: 'put',
      base: 0,
      value: { title: 'x' },
    });
    expect(results).toEqual([{ mid: 1, status: 'applied', version: 1 }]);
    const msg = await b.waitForChange((m) => m.scope === 'team:a');
    expect(msg.after).toBe(0);
    expect(msg.changes[0]?.value).toEqual({ title: 'x' });
    const pulled = await b.pull('team:a');
    expect(pulled.ok && pulled.changes.length).toBe(1);
    a.close();
    b.close();
  });
});
