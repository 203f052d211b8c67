import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asClientId, asMid, asScopeId, asVersion, type Mutation } from '@syncline/protocol';
import { dropSchema, PG_URL, testSchema } from '@syncline/test-support/databases';
import { PostgresStorage } from '../src/storage/postgres-storage.js';
import { applyPush, type PushContext } from '../src/sync/apply-push.js';

/**
 * A push's round trips to PostgreSQL, counted on the wire: a proxy between the storage and the
 * database counts the times the storage writes again after the database answered. Inside the
 * transaction the push holds its scopes' locks, so every round trip there is time no other push
 * of those scopes can use. BEGIN, the locks, the scope heads, the client row and the records go
 * out together, and the writes with COMMIT: two round trips, however many mutations.
 */
describe.skipIf(!PG_URL)('PostgreSQL round trips per push', () => {
  const schema = testSchema('trips');
  let proxy: CountingProxy;
  let storage: PostgresStorage;

  beforeAll(async () => {
    proxy = await countingProxy(new URL(PG_URL!));
    const url = new URL(PG_URL!);
    url.host = `127.0.0.1:${proxy.port}`;
    storage = await PostgresStorage.open({ connectionString: url.toString(), schema, poolSize: 1 });
  });
  afterAll(async () => {
    await storage.close();
    await proxy.close();
    await dropSchema(PG_URL!, schema);
  });

  const ctx: PushContext = {
    clientId: asClientId('trips-client'),
    userId: 'u',
    now: 1,
    collections: {},
    limits: { maxRecordBytes: 1 << 20, maxDepth: 32 },
    canPush: () => true,
  };
  let mid = 0;
  const push = (n: number, round: number): Mutation[] =>
    Array.from({ length: n }, (_, i) => ({
      mid: asMid(++mid),
      scope: asScopeId('trips'),
      collection: 'cards',
      id: `c${i}`,
      op: 'put' as const,
      base: asVersion(round === 0 ? 0 : round * n),
      value: { i, round },
    }));

  it('is two for a push of 1 or of 50 mutations, new records or updates', async () => {
    for (const [round, n] of [1, 50, 50, 1].entries()) {
      // Updates after the first round: records 0..n-1 exist, each at the version round * n wrote.
      const mutations = round === 0 ? push(n, 0) : push(n, 0).map((m) => ({ ...m, base: asVersion(0) }));
      const before = proxy.roundTrips();
      const out = await applyPush(storage, ctx, mutations);
      expect(out.ok).toBe(true);
      expect(proxy.roundTrips() - before, `round ${round}: ${n} mutation(s)`).toBe(2);
    }
  });

  it('adds one for SAVEPOINT and one for RELEASE when the push holds a txn group', async () => {
    const plain = push(2, 0).map((m) => ({ ...m, id: `s${m.mid}` }));
    const group = push(3, 0).map((m) => ({ ...m, id: `t${m.mid}`, txn: 'group' }));
    const before = proxy.roundTrips();
    const out = await applyPush(storage, ctx, [...plain, ...group]);
    expect(out.ok && out.results.map((r) => r.status)).toEqual(Array(5).fill('applied'));
    expect(proxy.roundTrips() - before).toBe(4);
  });
});

interface CountingProxy {
  readonly port: number;
  /** Times the client wrote after the server had answered since its last write, in total. */
  roundTrips(): number;
  close(): Promise<void>;
}

async function countingProxy(target: URL): Promise<CountingProxy> {
  let trips = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    let answered = true;
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (answered) trips++;
      answered = false;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      answered = true;
      client.write(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    roundTrips: () => trips,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
