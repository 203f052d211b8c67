import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../storage/memory-storage.js';
import { nodeHealth, type NodeHealthInputs } from './node-health.js';
import { systemTimers } from './timers.js';

function setup(extra: Partial<NodeHealthInputs> = {}) {
  let now = 10_000;
  let closing = false;
  const health = nodeHealth({
    storage: new MemoryStorage(),
    nodeId: 'n1',
    clock: { now: () => now },
    timers: systemTimers,
    startedAt: 10_000,
    connections: () => 3,
    isClosing: () => closing,
    ...extra,
  });
  return { health, advance: (ms: number) => (now += ms), close: () => (closing = true) };
}

describe('nodeHealth', () => {
  it('liveness counts uptime from the start and reports the latest readiness only once probed', async () => {
    const { health, advance } = setup();
    advance(2_600);
    expect(health.liveness()).toEqual({ status: 'ok', nodeId: 'n1', connections: 3, uptimeSeconds: 3 });
    const report = await health.health();
    expect(report.status).toBe('ok');
    expect(report.uptimeSeconds).toBe(3);
    expect(health.liveness().lastReadiness).toEqual({ status: 'ok', storageOk: true, at: 12_600 });
  });

  it('checks the fan-out adapter and shows it in liveness; an app check of the same name wins', async () => {
    let adapterUp = false;
    const adapter = { kind: 'redis', ready: () => adapterUp };
    const { health } = setup({ adapter });
    expect(health.liveness().adapter).toEqual({ kind: 'redis', ok: false });
    expect((await health.health()).checks).toEqual({ adapter: { ok: false, error: 'check failed' } });
    adapterUp = true;
    expect((await health.health()).status).toBe('ok');

    const overridden = setup({ adapter, readinessChecks: { adapter: () => false, extra: () => true } });
    const report = await overridden.health.health();
    expect(report.checks).toEqual({ adapter: { ok: false, error: 'check failed' }, extra: { ok: true } });
  });

  it('is not ready while shutting down, and liveness stays ok', async () => {
    const { health, close } = setup();
    close();
    const report = await health.health();
    expect(report).toMatchObject({ status: 'unhealthy', shuttingDown: true });
    expect(health.liveness().status).toBe('ok');
    expect(health.liveness().lastReadiness?.status).toBe('unhealthy');
  });
});
