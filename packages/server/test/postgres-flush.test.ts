import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asClientId, asMid, asScopeId, asVersion, type ScopeId } from '@syncline/protocol';
import { dropSchema, PG_URL, testSchema } from '@syncline/test-support/databases';
import { PostgresStorage } from '../src/storage/postgres-storage.js';
import type { StorageTx, StoredHistoryEntry, StoredRecord } from '../src/storage/storage.js';

/**
 * PostgreSQL sends a transaction's records, history and client rows as one multi-row statement
 * (arrays through unnest()). These check it with one row and with many, and with the strings
 * that array literals must escape, every nullable column both null and set.
 */
describe.skipIf(!PG_URL)('PostgresStorage multi-row writes', () => {
  let storage: PostgresStorage;
  let schema: string;
  beforeEach(async () => {
    schema = testSchema('flush');
    storage = await PostgresStorage.open({ connectionString: PG_URL!, schema, poolSize: 2 });
  });
  afterEach(async () => {
    await storage.close();
    await dropSchema(PG_URL!, schema);
  });

  const TRICKY = ['', 'NULL', 'null', '"quoted"', 'back\\slash', '{a,b}', 'line\nbreak\ttab', 'é😀', 'x'];
  // PostgreSQL text holds no NUL, so only values carry one (JSON text escapes it).
  const NUL = 'nul \u0000 inside';

  async function change(tx: StorageTx, scope: ScopeId, id: string, i: number) {
    const version = await tx.nextVersion(scope);
    const plain = i % 2 === 0;
    const record: StoredRecord = {
      scope,
      collection: TRICKY[i % TRICKY.length]! || 'c',
      id,
      version,
      value: i % 7 === 3 ? null : { s: TRICKY[i % TRICKY.length]!, i, nested: { list: [1, '"', null, NUL] } },
      clientId: plain ? null : asClientId(`client-${i}`),
      mid: plain ? null : asMid(i + 1),
      updatedAt: 1_700_000_000_000 + i,
    };
    const entry: StoredHistoryEntry = {
      scope,
      collection: record.collection,
      id,
      version,
      prevVersion: asVersion(0),
      op: record.value === null ? 'delete' : 'put',
      value: record.value,
      clientId: record.clientId,
      mid: record.mid,
      userId: plain ? null : `user "${i}"`,
      serverTime: record.updatedAt,
      conflict: plain ? null : { strategy: 'merge', overwritten: ['a', 'b\\"'] },
      restoredFrom: plain ? null : asVersion(1),
    };
    await tx.putRecord(record);
    await tx.appendHistory(entry);
    return { record, entry };
  }

  it('writes one record, one history entry and one client row', async () => {
    const S = asScopeId('one');
    const { record, entry } = await storage.transaction(async (tx) => {
      const written = await change(tx, S, 'only', 1);
      await tx.putClient({ clientId: asClientId('c-1'), userId: 'u "1"', lastMid: 5 });
      return written;
    });
    expect(await storage.getRecord(S, record.collection, 'only')).toEqual(record);
    expect(await storage.history(S, record.collection, 'only', { limit: 5 })).toEqual([entry]);
    expect(await storage.head(S)).toBe(1);
    expect(await storage.getClient(asClientId('c-1'))).toEqual({
      clientId: 'c-1',
      userId: 'u "1"',
      lastMid: 5,
    });
  });

  it('writes hundreds of rows across scopes in one transaction, exactly as given', async () => {
    const scopes = ['a', 'b', 'c'].map(asScopeId);
    const written = await storage.transaction(async (tx) => {
      const out: Awaited<ReturnType<typeof change>>[] = [];
      for (let i = 0; i < 450; i++) out.push(await change(tx, scopes[i % 3]!, `id ${TRICKY[i % 9]} ${i}`, i));
      for (let i = 0; i < 20; i++)
        await tx.putClient({ clientId: asClientId(`c-${i}`), userId: `u${i}`, lastMid: i });
      // The last write of a row in a transaction is the one that stands.
      await tx.putClient({ clientId: asClientId('c-3'), userId: 'u3', lastMid: 99 });
      return out;
    });
    for (const scope of scopes) {
      expect(await storage.head(scope)).toBe(150);
      const page = await storage.scopeHistory(scope, asVersion(0), 1000);
      const mine = written.filter((w) => w.entry.scope === scope).map((w) => w.entry);
      expect(page.entries).toEqual(mine);
    }
    for (const { record } of written) {
      expect(await storage.getRecord(record.scope, record.collection, record.id)).toEqual(record);
    }
    expect((await storage.getClient(asClientId('c-3')))?.lastMid).toBe(99);
    expect((await storage.getClient(asClientId('c-19')))?.lastMid).toBe(19);
  });

  it('answers reads of prefetched records as the database would, own writes and rolled-back savepoints included', async () => {
    const S = asScopeId('pre');
    const { record: a } = await storage.transaction((tx) => change(tx, S, 'a', 1));
    const key = (id: string) => ({ scope: S, collection: a.collection, id });
    await storage.transaction(async (tx) => {
      await tx.prefetchRecords!([key('a'), key('b')]);
      expect(await tx.getRecord(S, a.collection, 'a')).toEqual(a);
      expect(await tx.getRecord(S, a.collection, 'b')).toBeUndefined();
      const { record: b } = await change(tx, S, 'b', 1);
      expect(await tx.getRecord(S, a.collection, 'b')).toEqual(b);
      await expect(
        tx.savepoint(async () => {
          await change(tx, S, 'a', 1);
          await change(tx, S, 'c', 1);
          // A nested savepoint sends those writes to the database, inside the outer one.
          await tx.savepoint(async () => undefined);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect(await tx.getRecord(S, a.collection, 'a')).toEqual(a);
      expect(await tx.getRecord(S, a.collection, 'b')).toEqual(b);
      expect(await tx.getRecord(S, a.collection, 'c')).toBeUndefined();
    });
    expect((await storage.pull(S, asVersion(0), 10)).records.map((r) => [r.id, r.version])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('fails the transaction when one row of the batch is refused, and writes none of it', async () => {
    const S = asScopeId('dup');
    const { entry } = await storage.transaction((tx) => change(tx, S, 'x', 1));
    await expect(
      storage.transaction(async (tx) => {
        for (let i = 0; i < 5; i++) await change(tx, S, `y${i}`, i);
        await tx.appendHistory(entry);
      }),
    ).rejects.toThrow();
    expect(await storage.head(S)).toBe(1);
    expect((await storage.pull(S, asVersion(0), 10)).records.map((r) => r.id)).toEqual(['x']);
  });
});
