import { afterEach, describe, expect, it } from 'vitest';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';
import { scrape } from './helpers/http.js';

let running: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  running = undefined;
});

const report = (lag: number) => ({
  scopes: [{ scope: 'team:a', cursor: 10, head: 10 + lag }],
  pending: 1,
  oldestPendingAgeMs: 100,
  pushLatencyMs: 5,
  conflictRate: 0,
});

describe('client telemetry event', () => {
  it('is validated like every other event: schema, limits, forbidden keys', async () => {
    running = await startServer();
    const c = await TestClient.connect(running.url);
    clients.push(c);
    await c.subscribe('team:a');
    const bad: unknown[] = [
      { ...report(1), extra: true },
      { ...report(1), pending: -1 },
      { ...report(1), conflictRate: 2 },
      { ...report(1), scopes: [{ scope: 'team:a', cursor: 1.5, head: 2 }] },
      { ...report(1), scopes: Array.from({ length: 257 }, () => ({ scope: 'team:a', cursor: 0, head: 1 })) },
      { ...report(1), oldestPendingAgeMs: 1e13 },
      JSON.parse('{"__proto__": {"x": 1}}'),
      'not an object',
    ];
    for (const payload of bad) {
      expect(await c.raw('telemetry', payload), JSON.stringify(payload)).toMatchObject({
        ok: false,
        error: { code: expect.stringMatching(/^(invalid_message|forbidden_key)$/) as string },
      });
    }
    expect(await c.raw('telemetry', report(3))).toEqual({ ok: true });
    expect((await scrape(running.url)).value('syncline_client_telemetry_reports_total')).toBe(1);
  });

  it('accepts one report per socket per interval (injected clock)', async () => {
    let now = 1_000_000;
    running = await startServer({ clock: { now: () => now }, telemetry: { minIntervalMs: 5000 } });
    const c = await TestClient.connect(running.url);
    clients.push(c);
    await c.subscribe('team:a');
    expect(await c.raw('telemetry', report(1))).toEqual({ ok: true });
    now += 4999;
    expect(await c.raw('telemetry', report(2))).toMatchObject({
      ok: false,
      error: { code: 'rate_limited', retryable: true },
    });
    now += 1;
    expect(await c.raw('telemetry', report(7))).toEqual({ ok: true });
    const m = await scrape(running.url);
    expect(m.value('syncline_client_lag_versions_count')).toBe(2);
    expect(m.value('syncline_client_lag_versions_sum')).toBe(8);
    expect(m.value('syncline_client_max_lag_versions')).toBe(7);
    expect(m.value('syncline_requests_total', { event: 'telemetry', result: 'rate_limited' })).toBe(1);
  });
});
