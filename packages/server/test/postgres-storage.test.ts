import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { asClientId, asMid, asScopeId, asVersion } from '@syncline/protocol';
import type { ClientId, Mutation, ScopeId, Version } from '@syncline/protocol';
import { PostgresStorage } from '../src/storage/postgres-storage.js';
import { PG_MIGRATIONS, migratePg } from '../src/storage/postgres-schema.js';
import type { StorageTx } from '../src/storage/storage.js';
import { applyPush, type PushContext } from '../src/sync/apply-push.js';
import { dropSchema, PG_URL, testSchema as tempSchema } from '@syncline/test-support/databases';

/**
 * What only a shared database can get wrong: several nodes (each its own `PostgresStorage` with
 * its own pool, exactly as separate server processes have) writing the same scopes at once.
 */
describe.skipIf(!PG_URL)('PostgresStorage across nodes', () => {
  const url = PG_URL!;
  const schema = tempSchema('nodes');
  let nodes: PostgresStorage[] = [];
  let admin: pg.Client;

  beforeAll(async () => {
    nodes = await Promise.all(
      [0, 1, 2].map((n) =>
        PostgresStorage.open({
          connectionString: url,
          schema,
          poolSize: 5,
          applicationName: `${schema}-${n}`,
        }),
      ),
    );
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await admin.end();
    await dropSchema(url, schema);
  });

  const S = [asScopeId('scope:a'), asScopeId('scope:b'), asScopeId('scope:c')] as const;

  /** One change the way the sync layer makes it, in scope `scope`. */
  async function change(tx: StorageTx, scope: ScopeId, id: string, writer: string): Promise<Version> {
    const prev = await tx.getRecord(scope, 'items', id);
    const version = await tx.nextVersion(scope);
    const value = { writer, n: typeof prev?.value?.['n'] === 'number' ? prev.value['n'] + 1 : 1 };
    await tx.putRecord({
      scope,
      collection: 'items',
      id,
      version,
      value,
      clientId: null,
      mid: null,
      updatedAt: 1,
    });
    await tx.appendHistory({
      scope,
      collection: 'items',
      id,
      version,
      prevVersion: prev?.version ?? asVersion(0),
      op: 'put',
      value,
      clientId: null,
      mid: null,
      userId: writer,
      serverTime: 1,
      conflict: null,
      restoredFrom: null,
    });
    return version;
  }

  it('30 writers on 3 nodes: every scope gapless, no duplicate, committed and published in allocation order, no lost update', async () => {
    const published = nodes.map(() => new Map<string, number[]>());
    let staleReads = 0;
    const writers = Array.from({ length: 30 }, (_, w) => async () => {
      const node = nodes[w % 3]!;
      for (let i = 0; i < 12; i++) {
        // Some transactions touch two scopes, in opposite orders.
        const order = (w + i) % 4 === 0 ? [S[(w + i) % 3]!, S[(w + i + 1) % 3]!] : [S[(w * 7 + i) % 3]!];
        await node.transaction(
          async (tx) => {
            const out: [ScopeId, Version][] = [];
            for (const scope of order) {
              const v = await change(tx, scope, `r${(w + i) % 5}`, `w${w}`);
              // Any other connection already sees v - 1: it committed before v was allocated. (Read on
              // a separate client: fn awaiting another pool of the same database could starve it.)
              const { rows } = await admin.query<{ head: string }>(
                `SELECT head FROM "${schema}".scopes WHERE scope = $1`,
                [scope],
              );
              if (Number(rows[0]?.head ?? 0) !== v - 1) staleReads++;
              out.push([scope, v]);
            }
            return out;
          },
          (out) => {
            for (const [scope, v] of out) {
              const list = published[w % 3]!.get(scope) ?? [];
              list.push(v);
              published[w % 3]!.set(scope, list);
            }
          },
          // As every push does: its scopes up front, locked in one order, so no deadlock.
          { scopes: order },
        );
      }
    });
    await Promise.all(writers.map((run) => run()));
    expect(staleReads).toBe(0);

    let total = 0;
    for (const scope of S) {
      const head = await nodes[0]!.head(scope);
      const { rows } = await admin.query<{ version: string; n: string }>(
        `SELECT version, count(*) AS n FROM "${schema}".history WHERE scope = $1 GROUP BY version ORDER BY version`,
        [scope],
      );
      expect(rows.map((r) => Number(r.version))).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      expect(rows.every((r) => r.n === '1')).toBe(true);
      total += head;
      // Each node published its own commits of a scope in version order.
      for (const node of published) {
        const seen = node.get(scope) ?? [];
        expect(seen).toEqual([...seen].sort((a, b) => a - b));
      }
    }
    // 30 writers × 12 transactions, every 4th touching two scopes.
    expect(total).toBe(30 * 12 + 90);
    // No lost update: each record's counter equals the number of changes made to it.
    const { rows: counts } = await admin.query<{ scope: string; id: string; n: string }>(
      `SELECT scope, id, count(*) AS n FROM "${schema}".history GROUP BY scope, id`,
    );
    for (const c of counts) {
      const rec = await nodes[1]!.getRecord(asScopeId(c.scope), 'items', c.id);
      expect(rec?.value?.['n']).toBe(Number(c.n));
    }
  }, 60_000);

  it('retries the loser of a deadlock between nodes: both transactions commit, nothing is left twice', async () => {
    const [A, B] = [asScopeId('dl:a'), asScopeId('dl:b')];
    let attempts = 0;
    let aHolds!: () => void;
    const aHolding = new Promise<void>((r) => (aHolds = r));
    let bHolds!: () => void;
    const bHolding = new Promise<void>((r) => (bHolds = r));
    // No scopes up front: each locks its first scope, then reaches for the other's.
    const first = nodes[0]!.transaction(async (tx) => {
      attempts++;
      const v = await change(tx, A, 'x', 'first');
      aHolds();
      await bHolding;
      return [v, await change(tx, B, 'x', 'first')];
    });
    const second = nodes[1]!.transaction(async (tx) => {
      attempts++;
      const v = await change(tx, B, 'y', 'second');
      bHolds();
      await aHolding;
      return [v, await change(tx, A, 'y', 'second')];
    });
    const results = await Promise.all([first, second]);
    expect(attempts).toBe(3);
    expect(results.flat().sort()).toEqual([1, 1, 2, 2]);
    expect(await nodes[2]!.head(A)).toBe(2);
    expect(await nodes[2]!.head(B)).toBe(2);
  }, 30_000);

  it('a puller never misses a version while writers on other nodes commit', async () => {
    const scope = asScopeId('scope:pulled');
    const seen = new Set<number>();
    let cursor = 0;
    let writing = true;
    const puller = (async () => {
      while (writing || cursor < (await nodes[0]!.head(scope))) {
        const page = await nodes[0]!.pull(scope, asVersion(cursor), 50);
        for (const r of page.records) seen.add(r.version);
        // A client's cursor is the highest version it has seen; any version it skips is lost to it.
        cursor = page.records.length > 0 ? page.records[page.records.length - 1]!.version : cursor;
      }
    })();
    await Promise.all(
      Array.from({ length: 12 }, (_, w) =>
        (async () => {
          for (let i = 0; i < 15; i++) {
            // A distinct record per change, so every version stays visible in the records table.
            await nodes[1 + (w % 2)]!.transaction((tx) => change(tx, scope, `w${w}-${i}`, `w${w}`));
          }
        })(),
      ),
    );
    writing = false;
    await puller;
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 180 }, (_, i) => i + 1));
  }, 60_000);

  it('holds a later allocation until the earlier transaction ends: a pull never sees version 2 without 1', async () => {
    const scope = asScopeId('scope:order');
    let release!: () => void;
    const latch = new Promise<void>((r) => (release = r));
    let allocated!: () => void;
    const first = new Promise<void>((r) => (allocated = r));
    const tx1 = nodes[0]!.transaction(async (tx) => {
      const v = await change(tx, scope, 'a', 'tx1');
      allocated();
      await latch;
      return v;
    });
    await first;
    const tx2 = nodes[1]!.transaction((tx) => change(tx, scope, 'b', 'tx2'));
    // Wait until node 1's transaction is queued on the scope lock, as PostgreSQL reports it.
    for (;;) {
      const { rows } = await admin.query(
        `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [`${schema}-1`],
      );
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const during = await nodes[2]!.pull(scope, asVersion(0), 10);
    expect(during.head).toBe(0);
    expect(during.records).toEqual([]);
    release();
    expect(await tx1).toBe(1);
    expect(await tx2).toBe(2);
    const after = await nodes[2]!.pull(scope, asVersion(0), 10);
    expect(after.records.map((r) => [r.id, r.version])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('applies a batch pushed to two nodes at once exactly once', async () => {
    const ctx = (clientId: ClientId): PushContext => ({
      clientId,
      userId: 'u1',
      now: 1,
      collections: { counters: { strategy: 'merge' } },
      limits: { maxRecordBytes: 1 << 20, maxDepth: 32 },
      canPush: () => true,
    });
    for (let round = 0; round < 10; round++) {
      const clientId = asClientId(`dup-client-${round}-x`);
      await nodes[0]!.bindClient(clientId, 'u1');
      const key = { scope: S[0], collection: 'counters', id: `c${round}`, base: asVersion(0) };
      const batch: Mutation[] = [
        { ...key, mid: asMid(1), op: 'put', value: { n: 0 } },
        ...Array.from({ length: 4 }, (_, i) => ({
          ...key,
          mid: asMid(i + 2),
          op: 'inc' as const,
          field: 'n',
          by: 1,
        })),
      ];
      const outcomes = await Promise.all([
        applyPush(nodes[0]!, ctx(clientId), batch),
        applyPush(nodes[1]!, ctx(clientId), batch),
        applyPush(nodes[2]!, ctx(clientId), batch),
      ]);
      const statuses = outcomes.flatMap((o) => (o.ok ? o.results.map((r) => r.status) : ['refused']));
      expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(10);
      // The put and four incs, once: applied or merged onto the put, by whichever node won.
      expect(statuses.filter((s) => s === 'applied' || s === 'merged')).toHaveLength(5);
      expect((await nodes[2]!.getRecord(S[0], 'counters', `c${round}`))?.value).toEqual({ n: 4 });
    }
  }, 30_000);
});

describe.skipIf(!PG_URL)('PostgresStorage lifecycle', () => {
  const url = PG_URL!;

  it('migrates a new schema once when nodes start together, and refuses a newer schema', async () => {
    const schema = tempSchema('mig');
    try {
      const opened = await Promise.all(
        [0, 1, 2, 3].map(() => PostgresStorage.open({ connectionString: url, schema, poolSize: 1 })),
      );
      await Promise.all(opened.map((s) => s.close()));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: number }>(
          `SELECT version FROM "${schema}".schema_version ORDER BY version`,
        );
        expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
        await expect(migratePg(client, schema, [...PG_MIGRATIONS].slice(0, 0))).rejects.toThrow(
          /newer than this server supports/,
        );
      } finally {
        await client.end();
      }
    } finally {
      await dropSchema(url, schema);
    }
  });

  it('fails to open with a clear error when the database is unreachable', async () => {
    await expect(
      PostgresStorage.open({
        connectionString: 'postgres://postgres@127.0.0.1:1/test',
        connectTimeoutMs: 500,
      }),
    ).rejects.toThrow(/ECONNREFUSED|connect/);
  });

  it('survives its connections being killed, idle or mid-transaction, and serves again', async () => {
    const schema = tempSchema('kill');
    const app = `${schema}-app`;
    const errors: Error[] = [];
    const storage = await PostgresStorage.open({
      connectionString: url,
      schema,
      poolSize: 2,
      applicationName: app,
      onError: (e) => errors.push(e),
    });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const kill = () =>
      admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
        app,
      ]);
    try {
      const scope = asScopeId('s');
      const write = () =>
        storage.transaction(async (tx) => {
          const v = await tx.nextVersion(scope);
          await tx.putRecord({
            scope,
            collection: 'c',
            id: `r${v}`,
            version: v,
            value: { v },
            clientId: null,
            mid: null,
            updatedAt: 1,
          });
          return v;
        });
      expect(await write()).toBe(1);
      // Idle connections die: the pool reports it, the process lives, the next call reconnects.
      await kill();
      await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThan(0);
      expect(await write()).toBe(2);
      // A connection dies inside a transaction: that transaction fails and leaves nothing behind.
      let started!: () => void;
      const inTx = new Promise<void>((r) => (started = r));
      const doomed = storage.transaction(async (tx) => {
        await tx.nextVersion(scope);
        started();
        await new Promise((r) => setTimeout(r, 200));
        return tx.nextVersion(scope);
      });
      await inTx;
      await kill();
      await expect(doomed).rejects.toThrow();
      expect(await storage.head(scope)).toBe(2);
      expect(await write()).toBe(3);
      await storage.ping();
    } finally {
      await admin.end();
      await storage.close();
      await dropSchema(url, schema);
    }
  });
});
