import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '@syncline/protocol';
import { DEFAULT_BACKOFF } from '../src/engine/backoff.js';
import { browserNetwork, browserVisibility, ManualNetwork } from '../src/engine/environment.js';
import { memoryElection } from '../src/engine/leader.js';
import {
  DEFAULT_PULL_PAGE_SIZE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TELEMETRY_INTERVAL_MS,
  resolveOptions,
  type SyncClientOptions,
} from '../src/resolve-options.js';

const base: SyncClientOptions = {
  url: 'https://sync.example.com',
  tables: { cards: { scope: 'board:1' }, tags: { scope: 'board:1' } },
  scopes: ['board:1'],
};

describe('resolveOptions', () => {
  it('fills in every default once', () => {
    const o = resolveOptions(base);
    expect(o.urls).toEqual(['https://sync.example.com']);
    expect(o.tableNames).toEqual(['cards', 'tags']);
    expect(o.limits).toEqual(DEFAULT_LIMITS);
    expect(o.requestTimeoutMs).toBe(DEFAULT_REQUEST_TIMEOUT_MS);
    expect(o.pullPageSize).toBe(DEFAULT_PULL_PAGE_SIZE);
    expect(o.coalesce).toBe(true);
    expect(o.backoff).toBe(DEFAULT_BACKOFF);
    expect(o.network).toBe(browserNetwork);
    expect(o.visibility).toBe(browserVisibility);
    expect(o.now).toBe(Date.now);
    expect(o.random).toBe(Math.random);
    expect(o.telemetryIntervalMs).toBeNull();
    expect(o.token).toBeUndefined();
    expect(o.path).toBeUndefined();
  });

  it('keeps given values, and a list of URLs in its order (a copy)', () => {
    const urls = ['https://a.example.com', 'https://b.example.com'];
    const network = new ManualNetwork(true);
    const election = memoryElection();
    const now = () => 42;
    const o = resolveOptions({
      ...base,
      url: urls,
      token: 't',
      path: '/sync',
      network,
      election,
      now,
      backoff: { baseMs: 1, capMs: 2 },
      requestTimeoutMs: 1234,
      pullPageSize: 7,
      coalesce: false,
    });
    expect(o.urls).toEqual(urls);
    expect(o.urls).not.toBe(urls);
    expect(o).toMatchObject({
      token: 't',
      path: '/sync',
      network,
      now,
      requestTimeoutMs: 1234,
      pullPageSize: 7,
      coalesce: false,
    });
    expect(o.backoff).toEqual({ baseMs: 1, capMs: 2 });
    expect(o.election()).toBe(election);
  });

  it('merges partial limits over the defaults', () => {
    const o = resolveOptions({ ...base, limits: { maxDepth: 4 } });
    expect(o.limits).toEqual({ ...DEFAULT_LIMITS, maxDepth: 4 });
    expect(DEFAULT_LIMITS.maxDepth).not.toBe(4);
  });

  it('turns telemetry into an interval, or null when off', () => {
    expect(resolveOptions({ ...base, telemetry: false }).telemetryIntervalMs).toBeNull();
    expect(resolveOptions({ ...base, telemetry: true }).telemetryIntervalMs).toBe(
      DEFAULT_TELEMETRY_INTERVAL_MS,
    );
    expect(resolveOptions({ ...base, telemetry: {} }).telemetryIntervalMs).toBe(
      DEFAULT_TELEMETRY_INTERVAL_MS,
    );
    expect(resolveOptions({ ...base, telemetry: { intervalMs: 2500 } }).telemetryIntervalMs).toBe(2500);
  });
});
