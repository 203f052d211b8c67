import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, filter } from 'rxjs';
import type { SyncMetrics } from '@syncline/client';
import {
  EMPTY_ENGINE_METRICS,
  toSyncMetrics,
  toTelemetryReport,
  withPush,
  withScope,
} from '../../../packages/client/src/sync-metrics.js';
import { converged, device, SCOPE, settled, until, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';

let server: TestServer;
const devices: Device[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
});

function add(d: Device) {
  devices.push(d);
  return d;
}

const metrics = (d: Device, pred: (m: SyncMetrics) => boolean, timeoutMs = 10_000) =>
  Promise.race([
    firstValueFrom(d.sync.metrics$.pipe(filter(pred))),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('metrics condition not met')), timeoutMs),
    ),
  ]);

/** One sample's value from the server's /metrics, 0 when absent. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('client sync metrics', () => {
  it('metrics$ shows the outbox while offline, then push latency, results and per-scope lag', async () => {
    server = await startServer();
    const a = add(device(server.url, { online: false }));
    await a.sync.start();
    await a.db.cards.put({ id: 'c1', board: '1', title: 'offline 1' });
    await a.db.cards.put({ id: 'c2', board: '1', title: 'offline 2' });
    const offline = await metrics(a, (m) => m.queueDepth === 2);
    expect(offline.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
    expect(offline.pushes).toBe(0);
    expect(offline.pushLatencyMs).toEqual({ last: null, mean: null });

    a.network.set(true);
    await converged(a);
    const synced = await metrics(a, (m) => m.queueDepth === 0 && m.pushes > 0 && m.scopes[SCOPE]?.head === 2);
    expect(synced.oldestPendingAgeMs).toBeNull();
    expect(synced.results.applied).toBe(2);
    expect(synced.conflictRate).toBe(0);
    expect(synced.pushLatencyMs.last).toBeGreaterThanOrEqual(0);
    expect(synced.scopes[SCOPE]).toEqual({ cursor: 2, head: 2, lag: 0 });

    // Another device's writes arrive live: the head and the cursor move together.
    const b = add(device(server.url));
    await b.sync.start();
    await until(b.sync, settled);
    await b.db.cards.put({ id: 'c3', board: '1', title: 'from b' });
    expect((await metrics(a, (m) => m.scopes[SCOPE]?.cursor === 3)).scopes[SCOPE]).toEqual({
      cursor: 3,
      head: 3,
      lag: 0,
    });
  });

  it('computes lag, latency means and the conflict rate from what the engine saw', () => {
    let m = withScope(EMPTY_ENGINE_METRICS, 'team:a', { head: 10 });
    m = withScope(m, 'team:a', { cursor: 4, head: 7 }); // heads never go back
    m = withScope(m, 'team:b', { cursor: 5 });
    m = withPush(m, 30, [
      { mid: 1 as never, status: 'applied', version: 1 as never },
      { mid: 2 as never, status: 'duplicate' },
    ]);
    m = withPush(m, 10, [
      { mid: 3 as never, status: 'conflict', record: {} as never },
      { mid: 4 as never, status: 'rejected', error: { code: 'forbidden', message: '', retryable: false } },
    ]);
    const out = toSyncMetrics(m, { pending: 3, oldestPendingAt: 1000 }, ['team:a', 'team:b', 'team:c'], 1500);
    expect(out).toMatchObject({
      at: 1500,
      queueDepth: 3,
      oldestPendingAgeMs: 500,
      pushLatencyMs: { last: 10, mean: 20 },
      pushes: 2,
      results: { applied: 1, duplicate: 1, conflict: 1, rejected: 1, merged: 0 },
      scopes: { 'team:a': { cursor: 4, head: 10, lag: 6 }, 'team:b': { cursor: 5, head: 5, lag: 0 } },
    });
    expect(out.conflictRate).toBeCloseTo(1 / 3);
    expect(toTelemetryReport(out)).toEqual({
      scopes: [
        { scope: 'team:a', cursor: 4, head: 10 },
        { scope: 'team:b', cursor: 5, head: 5 },
      ],
      pending: 3,
      oldestPendingAgeMs: 500,
      pushLatencyMs: 20,
      conflictRate: 1 / 3,
    });
  });

  it('reports telemetry to the server when asked to, which exports it as lag metrics', async () => {
    server = await startServer({ telemetry: { minIntervalMs: 0 } });
    const a = add(device(server.url, { client: { telemetry: { intervalMs: 1000 } } }));
    await a.sync.start();
    await a.db.cards.put({ id: 'c1', board: '1', title: 'hello' });
    await converged(a);
    await expect
      .poll(() => metric(server.url, 'syncline_client_telemetry_reports_total'), {
        timeout: 10_000,
        interval: 200,
      })
      .toBeGreaterThan(0);
    expect(await metric(server.url, 'syncline_client_lag_versions_count')).toBeGreaterThan(0);
    expect(await metric(server.url, 'syncline_client_max_lag_versions')).toBe(0);
  });

  it('does not report without the option', async () => {
    server = await startServer({ telemetry: { minIntervalMs: 0 } });
    const a = add(device(server.url));
    await a.sync.start();
    await converged(a);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await metric(server.url, 'syncline_client_telemetry_reports_total')).toBe(0);
  });
});

describe('server-side writes reach devices', () => {
  it('a backend write over HTTP appears in a connected device’s Dexie table, merged with its pending edit', async () => {
    server = await startServer();
    const a = add(device(server.url));
    await a.sync.start();
    await a.db.cards.put({ id: 'c1', board: '1', title: 'from the device' });
    await converged(a);

    // The device edits a field locally (maybe still pending) while a backend job sets another.
    await a.db.cards.update('c1', { status: 'doing' });
    const res = await fetch(`${server.url}/v1/mutations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer billing-job' },
      body: JSON.stringify({
        mutations: [
          {
            mid: 1,
            scope: SCOPE,
            collection: 'cards',
            id: 'c1',
            op: 'patch',
            base: 1,
            patch: { set: { notes: 'invoiced' } },
          },
          {
            mid: 2,
            scope: SCOPE,
            collection: 'cards',
            id: 'srv1',
            op: 'put',
            base: 0,
            value: { id: 'srv1', board: '1', title: 'made by the backend' },
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    await expect
      .poll(async () => await a.db.cards.get('srv1'), { timeout: 10_000, interval: 50 })
      .toEqual({ id: 'srv1', board: '1', title: 'made by the backend' });
    await converged(a);
    expect(await a.db.cards.get('c1')).toEqual({
      id: 'c1',
      board: '1',
      title: 'from the device',
      status: 'doing',
      notes: 'invoiced',
    });
  });
});
