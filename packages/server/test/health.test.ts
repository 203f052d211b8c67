import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSyncServer } from '../src/create-sync-server.js';
import { silentLogger } from '../src/ops/logger.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';
import { tokenAuth } from './helpers/token-auth.js';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Memory storage whose ping can be made to fail or hang. */
class FlakyStorage extends MemoryStorage {
  mode: 'ok' | 'down' | 'hang' = 'ok';
  override ping(): Promise<void> {
    if (this.mode === 'down') return Promise.reject(new Error('connection refused'));
    if (this.mode === 'hang') return new Promise(() => undefined);
    return super.ping();
  }
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('/healthz and /readyz', () => {
  it('liveness stays up while storage is down; readiness follows storage', async () => {
    const storage = new FlakyStorage();
    running = await startServer({ storage });
    const ok = await get(`${running.url}/readyz`);
    expect(ok).toMatchObject({
      status: 200,
      body: { status: 'ok', storage: { kind: 'memory', ok: true }, checks: {}, shuttingDown: false },
    });
    storage.mode = 'down';
    expect(await get(`${running.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get(`${running.url}/readyz`)).toMatchObject({
      status: 503,
      body: { status: 'unhealthy', storage: { ok: false, error: 'connection refused' } },
    });
    expect((await running.server.health()).status).toBe('unhealthy');
    storage.mode = 'ok';
    expect((await get(`${running.url}/readyz`)).status).toBe(200);
  });

  it('treats a storage ping that never answers as not ready', async () => {
    const storage = new FlakyStorage();
    storage.mode = 'hang';
    running = await startServer({ storage });
    const started = Date.now();
    expect(await get(`${running.url}/readyz`)).toMatchObject({
      status: 503,
      body: { storage: { ok: false, error: 'no answer within 2000 ms' } },
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('includes extra readiness checks such as the Socket.IO adapter', async () => {
    let adapterUp = true;
    running = await startServer({
      readinessChecks: {
        adapter: () => adapterUp,
        broker: async () => {
          throw new Error('redis: ECONNREFUSED');
        },
      },
    });
    expect(await get(`${running.url}/readyz`)).toMatchObject({
      status: 503,
      body: { checks: { adapter: { ok: true }, broker: { ok: false, error: 'redis: ECONNREFUSED' } } },
    });
    adapterUp = false;
    expect((await running.server.health()).checks).toMatchObject({
      adapter: { ok: false, error: 'check failed' },
    });
  });

  it('reports connections and is not ready once shutdown starts', async () => {
    running = await startServer({ auth: tokenAuth });
    const c = await TestClient.connect(running.url, { token: 'alice' });
    expect(await get(`${running.url}/healthz`)).toMatchObject({ body: { connections: 1 } });
    c.close();
    await running.server.close();
    expect((await running.server.health()).shuttingDown).toBe(true);
    expect((await running.server.health()).status).toBe('unhealthy');
  });

  it('mounts into an app server that owns the HTTP listener', async () => {
    const storage = new MemoryStorage();
    const app = createServer();
    const sync = createSyncServer({ storage, auth: 'development', logger: silentLogger, httpServer: app });
    app.on('request', (req, res) => {
      if (sync.handleHttp(req, res)) return;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('the app');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    try {
      expect((await get(`${url}/readyz`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await (await fetch(`${url}/anything`)).text()).toBe('the app');
    } finally {
      await sync.close();
      await storage.close();
    }
  });
});
