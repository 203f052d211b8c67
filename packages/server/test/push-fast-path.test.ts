import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  asClientId,
  asMid,
  asScopeId,
  asVersion,
  type Mutation,
  type MutationResult,
  type JsonObject,
  type ScopeId,
} from '@syncline/protocol';
import { dropSchema, PG_URL, testSchema } from '@syncline/test-support/databases';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import { PostgresStorage } from '../src/storage/postgres-storage.js';
import { SqliteStorage } from '../src/storage/sqlite-storage.js';
import type { SyncStorage } from '../src/storage/storage.js';
import { applyPush, type PushContext } from '../src/sync/apply-push.js';

/**
 * The write path's fast paths (versions counted in memory after a scope's first per push,
 * PostgreSQL's buffered writes sent as one statement) on every backend, where they could hide a
 * bug: pushes spanning scopes, a record written twice in one push, a txn rolled back mid-push.
 */
type Opened = { storage: SyncStorage; cleanup: () => Promise<void> };
const backends: [string, () => Promise<Opened>][] = [
  ['memory', async () => ({ storage: new MemoryStorage(), cleanup: async () => undefined })],
  [
    'sqlite',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'syncline-fast-path-'));
      const storage = await SqliteStorage.open({ path: join(dir, 'f.db') });
      return { storage, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
];
const pgUrl = PG_URL;
if (pgUrl) {
  backends.push([
    'postgres',
    async () => {
      const schema = testSchema('fast');
      const storage = await PostgresStorage.open({ connectionString: pgUrl, schema, poolSize: 2 });
      return { storage, cleanup: () => dropSchema(pgUrl, schema) };
    },
  ]);
}

const S1 = asScopeId('team:one');
const S2 = asScopeId('team:two');
const S3 = asScopeId('team:three');
const CLIENT = asClientId('fast-path-client');
const ctx: PushContext = {
  clientId: CLIENT,
  userId: 'u1',
  now: 1000,
  collections: { counters: { strategy: 'merge' }, cards: { validate: (v) => (v.bad ? 'bad' : undefined) } },
  limits: { maxRecordBytes: 1 << 20, maxDepth: 32 },
  canPush: () => true,
};

let mid = 0;
const put = (scope: ScopeId, id: string, value: JsonObject, txn?: string): Mutation => ({
  mid: asMid(++mid),
  scope,
  collection: 'cards',
  id,
  base: asVersion(0),
  op: 'put',
  value,
  ...(txn !== undefined ? { txn } : {}),
});

const versionOf = (r: MutationResult | undefined) => (r?.status === 'applied' ? r.version : r?.status);

describe.each(backends)('push fast paths (%s)', (_name, open) => {
  let opened: Opened | undefined;
  afterEach(async () => {
    await opened?.storage.close();
    await opened?.cleanup();
    opened = undefined;
    mid = 0;
  });

  async function push(storage: SyncStorage, mutations: Mutation[]) {
    const out = await applyPush(storage, ctx, mutations);
    if (!out.ok) throw new Error(out.error.message);
    return out;
  }
  const historyVersions = async (storage: SyncStorage, scope: ScopeId) =>
    (await storage.scopeHistory(scope, asVersion(0), 100)).entries.map((e) => [e.id, e.version]);

  it('gives a push interleaving several scopes gapless versions per scope, continued by the next push', async () => {
    opened = await open();
    const { storage } = opened;
    await push(storage, [put(S1, 'seed', { n: 0 })]);
    const out = await push(storage, [
      put(S1, 'a', { n: 1 }),
      put(S2, 'b', { n: 2 }),
      put(S1, 'c', { n: 3 }),
      put(S2, 'd', { n: 4 }),
      put(S3, 'e', { n: 5 }),
      put(S1, 'f', { n: 6 }),
    ]);
    expect(out.results.map(versionOf)).toEqual([2, 1, 3, 2, 1, 4]);
    expect(out.committed.map((e) => [e.scope, e.version])).toEqual([
      [S1, 2],
      [S2, 1],
      [S1, 3],
      [S2, 2],
      [S3, 1],
      [S1, 4],
    ]);
    expect([await storage.head(S1), await storage.head(S2), await storage.head(S3)]).toEqual([4, 2, 1]);
    const next = await push(storage, [
      put(S2, 'g', { n: 7 }),
      put(S1, 'h', { n: 8 }),
      put(S1, 'i', { n: 9 }),
    ]);
    expect(next.results.map(versionOf)).toEqual([3, 5, 6]);
    expect(await historyVersions(storage, S1)).toEqual([
      ['seed', 1],
      ['a', 2],
      ['c', 3],
      ['f', 4],
      ['h', 5],
      ['i', 6],
    ]);
    expect((await storage.pull(S2, asVersion(0), 10)).records.map((r) => [r.id, r.version])).toEqual([
      ['b', 1],
      ['d', 2],
      ['g', 3],
    ]);
    expect((await storage.getClient(CLIENT))?.lastMid).toBe(10);
  });

  it('sees its own writes when one push writes a record several times, stale bases included', async () => {
    opened = await open();
    const { storage } = opened;
    const key = { scope: S1, collection: 'counters', id: 'c', base: asVersion(0) };
    const out = await push(storage, [
      { ...key, mid: asMid(1), op: 'put', value: { n: 0 } },
      // Base 0 is stale after the put, but only this client wrote since: no conflict, applied in order.
      { ...key, mid: asMid(2), op: 'inc', field: 'n', by: 1 },
      { ...key, mid: asMid(3), op: 'inc', field: 'n', by: 2 },
    ]);
    expect(out.results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    expect(await storage.getRecord(S1, 'counters', 'c')).toMatchObject({ version: 3, value: { n: 3 } });
    const history = await storage.history(S1, 'counters', 'c', { limit: 10 });
    expect(history.map((e) => [e.version, e.prevVersion, e.value])).toEqual([
      [3, 2, { n: 3 }],
      [2, 1, { n: 1 }],
      [1, 0, { n: 0 }],
    ]);
  });

  it('consumes no version for a txn aborted mid-push, in a scope it shares or one only it touched', async () => {
    opened = await open();
    const { storage } = opened;
    await push(storage, [put(S1, 'seed1', { n: 0 }), put(S2, 'seed2', { n: 0 })]);
    const out = await push(storage, [
      put(S1, 'before', { n: 1 }),
      put(S1, 't1', { n: 2 }, 'tx'),
      put(S3, 't3', { n: 3 }, 'tx'),
      put(S2, 't2', { n: 4 }, 'tx'),
      put(S1, 't4', { bad: true }, 'tx'),
      put(S2, 'after2', { n: 5 }),
      put(S1, 'after1', { n: 6 }),
    ]);
    expect(out.results.map((r) => (r.status === 'rejected' ? r.error.code : versionOf(r)))).toEqual([
      2,
      'txn_aborted',
      'txn_aborted',
      'txn_aborted',
      'validation_failed',
      2,
      3,
    ]);
    expect([await storage.head(S1), await storage.head(S2), await storage.head(S3)]).toEqual([3, 2, 0]);
    for (const [scope, id] of [
      [S1, 't1'],
      [S3, 't3'],
      [S2, 't2'],
      [S1, 't4'],
    ] as const) {
      expect(await storage.getRecord(scope, 'cards', id)).toBeUndefined();
      expect(await storage.history(scope, 'cards', id, { limit: 10 })).toEqual([]);
    }
    expect(await historyVersions(storage, S1)).toEqual([
      ['seed1', 1],
      ['before', 2],
      ['after1', 3],
    ]);
    const next = await push(storage, [put(S3, 'x', { n: 7 }), put(S1, 'y', { n: 8 })]);
    expect(next.results.map(versionOf)).toEqual([1, 4]);
    expect((await storage.getClient(CLIENT))?.lastMid).toBe(mid);
  });
});
