import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '@syncline/protocol';
import { developmentAuth, type AuthHooks } from './auth/auth.js';
import { systemClock } from './ops/clock.js';
import { silentLogger } from './ops/logger.js';
import { systemTimers } from './ops/timers.js';
import { resolveServerOptions } from './resolve-options.js';
import { MemoryStorage } from './storage/memory-storage.js';

const hooks: AuthHooks = { authenticate: () => ({ id: 'u' }), authorize: () => true };

describe('resolveServerOptions', () => {
  it('applies every default', () => {
    const r = resolveServerOptions({ storage: new MemoryStorage(), auth: hooks });
    expect(r.clock).toBe(systemClock);
    expect(r.timers).toBe(systemTimers);
    expect(r.limits).toEqual(DEFAULT_LIMITS);
    expect(r.nodeId).toMatch(/^[0-9a-f]{8}$/);
    expect(r.devMode).toBe(false);
    expect(r.auth).toBe(hooks);
    expect(r.origins).toEqual([]);
    expect(r.collections).toEqual({});
    expect(r.telemetryMinIntervalMs).toBe(5000);
    expect(r.feedPollIntervalMs).toBe(1000);
    expect(r.feedHeartbeatMs).toBe(15_000);
    expect(r.metricsAccess).toEqual({});
    expect(r.defaultMetrics).toBe(true);
  });

  it('keeps what is given, and development auth means the open hooks', () => {
    const r = resolveServerOptions({
      storage: new MemoryStorage(),
      auth: 'development',
      logger: silentLogger,
      limits: { maxMutationsPerPush: 7 },
      nodeId: 'n1',
      cors: { origins: ['https://a.example'] },
      telemetry: { minIntervalMs: 10 },
      changeFeed: { pollIntervalMs: 20, heartbeatMs: 30 },
      metrics: { token: 't', defaultMetrics: false },
    });
    expect(r.logger).toBe(silentLogger);
    expect(r.limits).toEqual({ ...DEFAULT_LIMITS, maxMutationsPerPush: 7 });
    expect(r.nodeId).toBe('n1');
    expect(r.devMode).toBe(true);
    expect(r.auth).toBe(developmentAuth);
    expect(r.origins).toEqual(['https://a.example']);
    expect([r.telemetryMinIntervalMs, r.feedPollIntervalMs, r.feedHeartbeatMs]).toEqual([10, 20, 30]);
    expect(r.metricsAccess).toEqual({ token: 't' });
    expect(r.defaultMetrics).toBe(false);
  });

  it('metrics: false removes the route and the process metrics', () => {
    const r = resolveServerOptions({ storage: new MemoryStorage(), auth: hooks, metrics: false });
    expect(r.metricsAccess).toBe(false);
    expect(r.defaultMetrics).toBe(false);
  });
});
