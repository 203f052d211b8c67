import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import { describe, expect, it } from 'vitest';
import {
  createSyncClient,
  ManualNetwork,
  memoryElection,
  synclineStores,
  SynclineConfigError,
  SynclineError,
  type SyncClientOptions,
} from '../src/index.js';

let counter = 0;
const base = {
  url: 'http://127.0.0.1:1',
  tables: { cards: { scope: (c: Record<string, unknown>) => `board:${String(c['board'])}` } },
  scopes: ['board:b1'],
  network: new ManualNetwork(false),
  election: memoryElection(),
};

/** The error `createSyncClient` throws for `options`, or undefined when it accepts them; the db stays closed. */
type ConfigRefusal = SynclineError & { readonly cause: SynclineConfigError };

function refusal(options: Record<string, unknown>): { error: ConfigRefusal | undefined; db: Dexie } {
  const db = new Dexie(`options-${process.pid}-${++counter}`);
  db.version(1).stores({ cards: 'id, board', ...synclineStores });
  try {
    const sync = createSyncClient(db, options as unknown as SyncClientOptions);
    void sync.close();
    return { error: undefined, db };
  } catch (err) {
    if (err instanceof SynclineError && err.cause instanceof SynclineConfigError)
      return { error: err as ConfigRefusal, db };
    throw err;
  }
}

describe('createSyncClient options', () => {
  it('refuses `scope` for `scopes`, naming the path and suggesting the option', () => {
    const { scopes: _s, ...rest } = base;
    const { error, db } = refusal({ ...rest, scope: ['board:b1'] });
    expect(error?.message).toBe(
      'invalid_config: scopes: required (an array); ' +
        "scope: unknown option (did you mean 'scopes'?); allowed: url, tables, scopes, token, path, network, visibility, election, now, random, backoff, limits, requestTimeoutMs, pullPageSize, coalesce, telemetry, leaderLease",
    );
    expect(error).toMatchObject({ code: 'invalid_config', retryable: false });
    // Refused before the outbox middleware is installed: the app's db is untouched.
    expect(db.isOpen()).toBe(false);
  });

  it('refuses a misspelt table setting', () => {
    const { error } = refusal({ ...base, tables: { cards: { scpe: 'board:b1' } } });
    expect(error?.cause.issues).toEqual([
      {
        path: 'tables.cards.scope',
        message: 'expected a scope string or a function (record) => scope, got nothing',
      },
      { path: 'tables.cards.scpe', message: "unknown option (did you mean 'scope'?); allowed: scope" },
    ]);
  });

  it('refuses wrong types and values, every one in a single error', () => {
    const { error } = refusal({
      ...base,
      url: 'localhost:8787',
      scopes: 'board:b1',
      token: 42,
      network: { isOnline: () => true },
      backoff: { baseMs: -1, capMs: 100 },
      limits: { maxRecordBytes: 0 },
      requestTimeoutMs: '5000',
      telemetry: { intervalMs: 0 },
    });
    expect(error?.cause.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "url: expected a server URL such as 'https://sync.example.com' (or a path on this origin, '/'), got 'localhost:8787'",
      "scopes: expected an array, got 'board:b1'",
      'token: expected a token string or a function returning one, got 42',
      'network: expected a NetworkStatus (an object with isOnline, subscribe), got an object',
      'backoff.baseMs: expected ≥ 0, got -1',
      'limits.maxRecordBytes: expected ≥ 1, got 0',
      "requestTimeoutMs: expected a number, got '5000'",
      'telemetry.intervalMs: expected ≥ 1, got 0',
    ]);
  });

  it('refuses a scope the server would refuse', () => {
    const { error } = refusal({ ...base, scopes: ['board b1'] });
    expect(error?.message).toBe(
      'invalid_config: scopes[0]: scope must be 1-128 characters of [A-Za-z0-9_.:@/-]',
    );
  });

  it('accepts every documented option', () => {
    const { error } = refusal({
      ...base,
      url: ['https://a.example.com', 'wss://b.example.com/', '/'],
      tables: { cards: { scope: 'board:b1' } },
      token: () => 't',
      path: '/sync',
      visibility: { isVisible: () => true, subscribe: () => () => undefined },
      now: Date.now,
      random: Math.random,
      backoff: { baseMs: 0, capMs: 10 },
      limits: { maxRecordBytes: 1000, eventsPerSecond: 0.5 },
      requestTimeoutMs: 1000,
      pullPageSize: 50,
      coalesce: false,
      telemetry: { intervalMs: 1000 },
      leaderLease: { heartbeatMs: 500, staleAfterMs: 2000 },
    });
    expect(error).toBeUndefined();
    expect(refusal({ ...base, telemetry: true, token: 'x' }).error).toBeUndefined();
  });
});
