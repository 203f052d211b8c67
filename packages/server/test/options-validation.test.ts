import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/index.js';
import {
  createSyncServer,
  MemoryStorage,
  SynclineConfigError,
  type SyncServerOptions,
} from '../src/index.js';

const storage = new MemoryStorage();
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** The error `createSyncServer` throws for `options`, or undefined when it accepts them. */
function refusal(options: Record<string, unknown>): SynclineConfigError | undefined {
  try {
    const server = createSyncServer({ storage, logger: silent, ...options } as unknown as SyncServerOptions);
    void server.close();
    return undefined;
  } catch (err) {
    if (err instanceof SynclineConfigError) return err;
    throw err;
  }
}

describe('createSyncServer options', () => {
  it("refuses strategy 'lwww' with the path and the allowed values", () => {
    const err = refusal({ auth: 'development', collections: { cards: { strategy: 'lwww' } } });
    expect(err?.message).toBe(
      "invalid_config: collections.cards.strategy: expected one of 'merge' | 'lww' | 'manual' | a function, got 'lwww'",
    );
    expect(err).toMatchObject({ code: 'invalid_config', retryable: false });
    expect(err?.issues).toEqual([
      {
        path: 'collections.cards.strategy',
        message: "expected one of 'merge' | 'lww' | 'manual' | a function, got 'lwww'",
      },
    ]);
  });

  it('refuses a misspelt option, suggesting the one it resembles', () => {
    const err = refusal({ auth: 'development', colections: { cards: { strategy: 'lww' } } });
    expect(err?.issues).toHaveLength(1);
    expect(err?.issues[0]?.path).toBe('colections');
    expect(err?.issues[0]?.message).toMatch(
      /^unknown option \(did you mean 'collections'\?\); allowed: storage, auth, collections,/,
    );
    expect(refusal({ auth: 'development', collections: { cards: { stratgy: 'lww' } } })?.message).toBe(
      "invalid_config: collections.cards.stratgy: unknown option (did you mean 'strategy'?); allowed: strategy, validate, webhook",
    );
  });

  it('names every bad path in one error', () => {
    const err = refusal({
      auth: { authenticate: () => null },
      limits: { maxPayloadBytes: -1, maxPayload: 1000 },
      cors: { origins: ['http://localhost:5173/'] },
      collections: { 'bad name': {}, notes: { webhook: { url: 'ftp://x', secret: '' } } },
      metrics: { tokn: 'x' },
      path: 'socket',
      retention: { keepVersions: 1.5 },
    });
    expect(err?.issues.map((i) => i.path)).toEqual([
      'auth.authorize',
      'collections["bad name"]',
      'collections.notes.webhook.url',
      'collections.notes.webhook.secret',
      'limits.maxPayloadBytes',
      'limits.maxPayload',
      'retention.keepVersions',
      'cors.origins[0]',
      'path',
      'metrics.tokn',
    ]);
    expect(err?.message).toContain('auth.authorize: required (a function)');
    expect(err?.message).toContain('limits.maxPayloadBytes: expected ≥ 1, got -1');
    expect(err?.message).toContain("limits.maxPayload: unknown option (did you mean 'maxPayloadBytes'?)");
    expect(err?.message).toContain('retention.keepVersions: expected an integer, got 1.5');
    expect(err?.message).toContain("collections.notes.webhook.url: expected an http(s) URL, got 'ftp://x'");
  });

  it('checks hooks, storage and auth as functions and objects with methods', () => {
    expect(refusal({ auth: 'dev' })?.message).toBe(
      "invalid_config: auth: expected 'development' or { authenticate, authorize } functions, got 'dev'",
    );
    expect(refusal({ auth: 'development', storage: {} })?.message).toBe(
      'invalid_config: storage: expected a SyncStorage (an object with transaction, ping, prune, close), got an object',
    );
    expect(refusal({ auth: 'development', collections: { c: { validate: 'yes' } } })?.message).toBe(
      "invalid_config: collections.c.validate: expected a function, got 'yes'",
    );
    expect(refusal({ auth: 'development', readinessChecks: { db: true } })?.message).toBe(
      'invalid_config: readinessChecks.db: expected a function, got true',
    );
  });

  it('accepts every documented option, with functions and class instances where they belong', () => {
    class Hooks {
      authenticate() {
        return { id: 'u' };
      }
      authorize() {
        return true;
      }
    }
    expect(
      refusal({
        auth: new Hooks(),
        collections: {
          notes: { strategy: 'manual', validate: () => undefined },
          cards: { strategy: () => ({ action: 'delete' }) },
          'board.cards_v2': {
            strategy: 'lww',
            webhook: { url: 'https://hooks.example.com/x', secret: 's', maxAttempts: 3, retryDelayMs: 0 },
          },
        },
        limits: { maxPayloadBytes: 10_000, eventsPerSecond: 0.5 },
        retention: { keepVersions: 0, maxAgeMs: 60_000, intervalMs: 1000 },
        cors: { origins: ['http://localhost:5173', 'https://app.example.com', '*'] },
        path: '/sync',
        nodeId: 'n1',
        metrics: false,
        changeFeed: { pollIntervalMs: 25, heartbeatMs: 1000 },
        telemetry: { minIntervalMs: 0 },
        readinessChecks: { adapter: () => true },
        clock: { now: () => 0 },
        webhooks: { fetch, random: Math.random },
      }),
    ).toBeUndefined();
    expect(refusal({ auth: 'development', metrics: { token: 't', defaultMetrics: false } })).toBeUndefined();
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it("refuses strategy 'lwww' and a misspelt option, naming the file and both paths", async () => {
    const file = write(
      'bad.config.mjs',
      "export default { colections: {}, collections: { cards: { strategy: 'lwww' } } };",
    );
    const err = await loadConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynclineConfigError);
    expect((err as SynclineConfigError).message).toBe(
      `invalid_config: ${file}: collections.cards.strategy: expected one of 'merge' | 'lww' | 'manual' | a function, got 'lwww'; ` +
        "colections: unknown option (did you mean 'collections'?); allowed: auth, collections, limits, retention, cors, path, nodeId, metrics, changeFeed, telemetry, presence, readinessChecks, budgets, query, sinks",
    );
  });

  it('refuses options that only the CLI sets, and a module without a default export', async () => {
    const refused = (file: string) =>
      loadConfig(file).then(
        () => new Error('accepted'),
        (e: unknown) => e as Error,
      );
    const storageKey = await refused(write('storage.config.mjs', 'export default { storage: {} };'));
    expect(storageKey.message).toContain('storage: unknown option; allowed: auth, collections,');
    const none = await refused(write('none.config.mjs', 'export const auth = "development";'));
    expect(none.message).toContain('export default: missing');
  });

  it('returns a valid module as it is, functions included', async () => {
    const file = write(
      'good.config.mjs',
      `export default {
        auth: { authenticate: () => ({ id: 'a' }), authorize: () => true },
        collections: { notes: { strategy: 'lww', validate: (v) => (v.title ? undefined : 'title required') } },
      };`,
    );
    const config = await loadConfig(file);
    expect(config.collections?.notes?.strategy).toBe('lww');
    expect(typeof config.collections?.notes?.validate).toBe('function');
  });
});
