import { afterEach, describe, expect, it } from 'vitest';
import { createSyncServer, MemoryStorage, silentLogger, type SyncServer } from '@syncline/server';
import { converged, device, until, type Device } from '@syncline/test-support/devices';
import { freePort } from '@syncline/test-support';
import type { Visibility } from '@syncline/client';

/** A page-visibility switch for tests. */
class ManualVisibility implements Visibility {
  #visible = false;
  readonly #subs = new Set<() => void>();
  isVisible(): boolean {
    return this.#visible;
  }
  set(visible: boolean): void {
    this.#visible = visible;
    for (const cb of [...this.#subs]) cb();
  }
  subscribe(cb: () => void): () => void {
    this.#subs.add(cb);
    return () => this.#subs.delete(cb);
  }
}

let server: SyncServer | undefined;
const devices: Device[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.close();
  server = undefined;
});

describe('page visibility', () => {
  it('a tab coming back to the foreground reconnects at once instead of waiting out its backoff', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const visibility = new ManualVisibility();
    // A backoff far longer than the test: only the visibility change can bring it back quickly.
    const d = device(url, {
      client: { visibility, backoff: { baseMs: 600_000, capMs: 600_000 }, random: () => 1 },
    });
    devices.push(d);
    await d.sync.start();
    await d.db.cards.put({ id: 'v', board: '1', title: 'written while the server was down' });
    const down = await until(d.sync, (s) => s.phase === 'backoff');
    expect(down.connected).toBe(false);

    server = createSyncServer({ storage: new MemoryStorage(), auth: 'development', logger: silentLogger });
    await server.listen(port);
    const started = Date.now();
    visibility.set(true);
    await converged(d, 'board:1', 5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
