import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asClientId, asMid, asScopeId, asVersion } from '@syncline/protocol';
import type { ClientId, JsonObject, ScopeId, Version } from '@syncline/protocol';
import { scopeHash } from '@syncline/protocol';
import { ScopeHashCache } from '../src/storage/scope-hash-cache.js';
import type { StorageTx, StoredHistoryEntry, StoredRecord, SyncStorage } from '../src/storage/storage.js';

/**
 * The storage contract as tests: every `SyncStorage` backend runs this suite. `cleanup` must
 * close the storage (it may already be closed by the test) and remove whatever it created.
 */
export function runStorageConformance(
  name: string,
  factory: () => Promise<{ storage: SyncStorage; cleanup: () => Promise<void> }>,
): void {
  const S = asScopeId('team:acme');
  const S2 = asScopeId('user:42');
  const CLIENT = asClientId('client-0001');
  const v = asVersion;

  const entry = (
    r: StoredRecord,
    prev: number,
    op: StoredHistoryEntry['op'] = 'put',
  ): StoredHistoryEntry => ({
    scope: r.scope,
    collection: r.collection,
    id: r.id,
    version: r.version,
    prevVersion: v(prev),
    op,
    value: r.value,
    clientId: r.clientId,
    mid: r.mid,
    userId: 'u1',
    serverTime: r.updatedAt,
    conflict: null,
    restoredFrom: null,
  });

  /** One change the way the sync layer makes it: next version, latest state, history entry. */
  async function change(
    tx: StorageTx,
    scope: ScopeId,
    id: string,
    value: JsonObject | null,
    time = 1000,
    collection = 'todos',
  ): Promise<Version> {
    const prev = await tx.getRecord(scope, collection, id);
    const version = await tx.nextVersion(scope);
    const rec: StoredRecord = {
      scope,
      collection,
      id,
      version,
      value,
      clientId: CLIENT,
      mid: null,
      updatedAt: time,
    };
    await tx.putRecord(rec);
    await tx.appendHistory(entry(rec, prev?.version ?? 0, value === null ? 'delete' : 'put'));
    return version;
  }

  describe(`SyncStorage conformance: ${name}`, () => {
    let storage: SyncStorage;
    let cleanup: () => Promise<void>;
    const commit = (
      scope: ScopeId,
      id: string,
      value: JsonObject | null,
      time = 1000,
      collection = 'todos',
    ) => storage.transaction((tx) => change(tx, scope, id, value, time, collection));
    const versionsOf = (rows: readonly { version: Version }[]) => rows.map((r) => r.version as number);

    beforeEach(async () => {
      ({ storage, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('has a kind and answers ping', async () => {
      expect(storage.kind).toMatch(/^[a-z]+$/);
      await expect(storage.ping()).resolves.toBeUndefined();
    });

    describe('versions', () => {
      it('are gapless per scope from 1, across transactions, and independent across scopes', async () => {
        const first = await storage.transaction(async (tx) => [
          await tx.nextVersion(S),
          await tx.nextVersion(S),
          await tx.nextVersion(S2),
          await tx.nextVersion(S),
        ]);
        expect(first).toEqual([1, 2, 1, 3]);
        const second = await storage.transaction(async (tx) => [
          await tx.nextVersion(S2),
          await tx.nextVersion(S),
        ]);
        expect(second).toEqual([2, 4]);
        expect(await storage.head(S)).toBe(4);
        expect(await storage.head(S2)).toBe(2);
        expect(await storage.head(asScopeId('never:seen'))).toBe(0);
      });

      it('are returned by a failed transaction, which persists nothing and rethrows', async () => {
        await commit(S, 'a', { n: 1 });
        await storage.transaction((tx) => tx.putClient({ clientId: CLIENT, userId: 'u1', lastMid: 3 }));
        const boom = new Error('boom');
        await expect(
          storage.transaction(async (tx) => {
            await change(tx, S, 'a', { n: 2 });
            await change(tx, S, 'b', { n: 1 });
            await change(tx, S2, 'c', { n: 1 });
            await tx.putClient({ clientId: CLIENT, userId: 'u1', lastMid: 9 });
            await tx.putClient({ clientId: asClientId('client-0002'), userId: 'u2', lastMid: 1 });
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect((await storage.getRecord(S, 'todos', 'a'))?.value).toEqual({ n: 1 });
        expect(await storage.getRecord(S, 'todos', 'b')).toBeUndefined();
        expect(await storage.history(S, 'todos', 'a', { limit: 10 })).toHaveLength(1);
        expect(await storage.history(S, 'todos', 'b', { limit: 10 })).toEqual([]);
        expect(await storage.head(S)).toBe(1);
        expect(await storage.head(S2)).toBe(0);
        expect((await storage.pull(S2, v(0), 10)).records).toEqual([]);
        await storage.transaction(async (tx) => {
          expect(await tx.getClient(CLIENT)).toEqual({ clientId: CLIENT, userId: 'u1', lastMid: 3 });
          expect(await tx.getClient(asClientId('client-0002'))).toBeUndefined();
        });
        expect(await commit(S, 'b', { n: 1 })).toBe(2);
        expect(await commit(S2, 'c', { n: 1 })).toBe(1);
      });

      it('resolves a transaction with the value of its function', async () => {
        await expect(storage.transaction(async (tx) => (await tx.nextVersion(S)) + 41)).resolves.toBe(42);
      });
    });

    describe('onCommit', () => {
      it('runs once after a commit with the result, never after a rollback', async () => {
        const seen: unknown[] = [];
        await storage.transaction(
          (tx) => tx.nextVersion(S),
          (version) => seen.push(version),
        );
        await expect(
          storage.transaction(
            async (tx) => {
              await tx.nextVersion(S);
              throw new Error('boom');
            },
            () => seen.push('rolled back'),
          ),
        ).rejects.toThrow('boom');
        expect(seen).toEqual([1]);
      });

      it('runs in commit order, once per commit, even when it throws', async () => {
        const events: string[] = [];
        const work = Array.from({ length: 20 }, (_, i) =>
          storage.transaction(
            async (tx) => {
              events.push(`begin ${i}`);
              return tx.nextVersion(S);
            },
            (version) => {
              events.push(`commit ${version}`);
              if (i === 3) throw new Error('publisher failed');
            },
          ),
        );
        const versions = await Promise.all(work);
        expect([...versions].sort((a, b) => a - b)).toEqual(versions.map((_, i) => i + 1));
        const commits = events.filter((e) => e.startsWith('commit')).map((e) => Number(e.split(' ')[1]));
        expect(commits).toEqual(commits.map((_, i) => i + 1));
        expect(commits).toHaveLength(20);
      });
    });

    describe('savepoints', () => {
      it('undo only their own writes, versions included, and the outer transaction commits the rest', async () => {
        await commit(S, 'a', { n: 1 });
        const boom = new Error('inner');
        const result = await storage.transaction(async (tx) => {
          const outer = await change(tx, S, 'a', { n: 2 });
          await expect(
            tx.savepoint(async () => {
              await change(tx, S, 'a', { n: 3 });
              await change(tx, S, 'b', { n: 1 });
              await change(tx, S2, 'c', { n: 1 });
              await tx.putClient({ clientId: CLIENT, userId: 'u1', lastMid: 7 });
              expect((await tx.getRecord(S, 'todos', 'a'))?.value).toEqual({ n: 3 });
              throw boom;
            }),
          ).rejects.toBe(boom);
          // The transaction goes on, seeing the state from before the savepoint.
          expect((await tx.getRecord(S, 'todos', 'a'))?.value).toEqual({ n: 2 });
          expect(await tx.getRecord(S, 'todos', 'b')).toBeUndefined();
          expect(await tx.getClient(CLIENT)).toBeUndefined();
          expect(await tx.getHistoryEntry(S, 'todos', 'a', v(3))).toBeUndefined();
          const after = await change(tx, S, 'd', { n: 1 });
          return { outer, after, s2: await tx.nextVersion(S2) };
        });
        expect(result).toEqual({ outer: 2, after: 3, s2: 1 });
        expect((await storage.getRecord(S, 'todos', 'a'))?.value).toEqual({ n: 2 });
        expect(await storage.getRecord(S, 'todos', 'b')).toBeUndefined();
        expect((await storage.getRecord(S, 'todos', 'd'))?.version).toBe(3);
        expect(await storage.history(S, 'todos', 'b', { limit: 10 })).toEqual([]);
        expect(versionsOf((await storage.pull(S, v(0), 10)).records)).toEqual([2, 3]);
        expect(await storage.head(S)).toBe(3);
        expect(await storage.bindClient(CLIENT, 'u9')).toEqual({
          clientId: CLIENT,
          userId: 'u9',
          lastMid: 0,
        });
      });

      it('keep their writes when they succeed, nest, and are undone with the outer transaction', async () => {
        const out = await storage.transaction(async (tx) => {
          const kept = await tx.savepoint(async () => {
            const a = await change(tx, S, 'a', { n: 1 });
            await tx.savepoint(() => change(tx, S, 'b', { n: 1 })).catch(() => undefined);
            await expect(
              tx.savepoint(async () => {
                await change(tx, S, 'c', { n: 1 });
                throw new Error('inner');
              }),
            ).rejects.toThrow('inner');
            return a;
          });
          return [kept, await tx.nextVersion(S)];
        });
        expect(out).toEqual([1, 3]);
        expect(versionsOf((await storage.pull(S, v(0), 10)).records)).toEqual([1, 2]);
        expect(await storage.getRecord(S, 'todos', 'c')).toBeUndefined();

        await expect(
          storage.transaction(async (tx) => {
            await tx.savepoint(() => change(tx, S, 'e', { n: 1 }));
            throw new Error('outer');
          }),
        ).rejects.toThrow('outer');
        expect(await storage.getRecord(S, 'todos', 'e')).toBeUndefined();
        expect(await storage.head(S)).toBe(3);
      });
    });

    describe('records', () => {
      it('round-trip every field and are replaced by putRecord; reads in a transaction see its writes', async () => {
        const first: StoredRecord = {
          scope: S,
          collection: 'notes',
          id: 'ü/1',
          version: v(1),
          value: { title: 'héllo 🌍', tags: ['a', 'b'], n: 1.5, nested: { ok: true, none: null } },
          clientId: CLIENT,
          mid: asMid(7),
          updatedAt: 1_700_000_000_123,
        };
        const second: StoredRecord = {
          ...first,
          version: v(2),
          value: { title: 'x' },
          clientId: null,
          mid: null,
          updatedAt: 5,
        };
        await storage.transaction(async (tx) => {
          await tx.nextVersion(S);
          await tx.putRecord(first);
          expect(await tx.getRecord(S, 'notes', 'ü/1')).toEqual(first);
        });
        expect(await storage.getRecord(S, 'notes', 'ü/1')).toEqual(first);
        await storage.transaction(async (tx) => {
          await tx.nextVersion(S);
          await tx.putRecord(second);
          expect(await tx.getRecord(S, 'notes', 'ü/1')).toEqual(second);
        });
        expect(await storage.getRecord(S, 'notes', 'ü/1')).toEqual(second);
        expect((await storage.pull(S, v(0), 10)).records).toEqual([second]);
        expect(await storage.getRecord(S, 'other', 'ü/1')).toBeUndefined();
        expect(await storage.getRecord(S2, 'notes', 'ü/1')).toBeUndefined();
      });

      it('keeps ids and values exactly: any valid id, key order, NUL and emoji inside values, big numbers', async () => {
        const ids = ['😀 card', 'it\'s "quoted" \\ back', 'ß'.repeat(256), '%_like_%'];
        const value = {
          z: 1,
          a: 'nul \u0000 inside',
          m: [1.5, -0, 2 ** 53 - 1],
          emoji: '😀',
          nested: { y: 1, b: 2 },
        };
        for (const id of ids) await commit(S, id, value);
        for (const id of ids) {
          const r = await storage.getRecord(S, 'todos', id);
          expect(r?.id).toBe(id);
          expect(JSON.stringify(r?.value)).toBe(JSON.stringify(value));
        }
        const page = await storage.pull(S, v(0), 10);
        expect(page.records.map((r) => r.id)).toEqual(ids);
      });

      it('keeps tombstones for pull and getRecord but not liveRecords', async () => {
        await commit(S, 'a', { n: 1 });
        await commit(S, 'b', { n: 1 });
        await commit(S, 'a', null);
        const tomb = await storage.getRecord(S, 'todos', 'a');
        expect(tomb).toMatchObject({ version: 3, value: null });
        const page = await storage.pull(S, v(0), 10);
        expect(page.records.map((r) => [r.id, r.version, r.value])).toEqual([
          ['b', 2, { n: 1 }],
          ['a', 3, null],
        ]);
        const live: StoredRecord[] = [];
        for await (const r of storage.liveRecords(S)) live.push(r);
        expect(live.map((r) => r.id)).toEqual(['b']);
      });

      it('lists every live record of the scope and only that scope, across pages, without blocking writers', async () => {
        const N = 2500;
        await storage.transaction(async (tx) => {
          for (let i = 0; i < N; i++) await change(tx, S, `r${i}`, { i }, 1000, i % 2 ? 'odd' : 'even');
          await change(tx, S2, 'elsewhere', { i: -1 });
        });
        const seen: string[] = [];
        for await (const r of storage.liveRecords(S)) {
          expect(r.scope).toBe(S);
          expect(r.value).toEqual({ i: Number(r.id.slice(1)) });
          seen.push(`${r.collection}/${r.id}`);
          // A consumer that writes while iterating must not deadlock the storage.
          if (seen.length % 1000 === 1) await commit(S2, `w${seen.length}`, { x: 1 });
        }
        expect(seen).toHaveLength(N);
        expect(new Set(seen).size).toBe(N);
        expect(seen).toContain('odd/r2499');
        expect(seen).toContain('even/r0');
      });
    });

    describe('pull', () => {
      it('pages ascending by version with exact hasMore, head and horizon', async () => {
        await commit(S, 'a', { n: 1 }); // 1
        await commit(S, 'b', { n: 1 }, 1000, 'notes'); // 2
        await commit(S, 'c', { n: 1 }); // 3
        await commit(S, 'a', { n: 2 }); // 4: a moves from 1 to 4
        await commit(S, 'd', null); // 5
        await commit(S2, 'x', { n: 1 });
        const all = await storage.pull(S, v(0), 100);
        expect(all.records.map((r) => `${r.id}@${r.version}`)).toEqual(['b@2', 'c@3', 'a@4', 'd@5']);
        expect(all).toMatchObject({ head: 5, horizon: 0, hasMore: false });
        const p1 = await storage.pull(S, v(0), 2);
        expect(versionsOf(p1.records)).toEqual([2, 3]);
        expect(p1).toMatchObject({ head: 5, horizon: 0, hasMore: true });
        const p2 = await storage.pull(S, v(3), 2);
        expect(versionsOf(p2.records)).toEqual([4, 5]);
        expect(p2.hasMore).toBe(false);
        expect((await storage.pull(S, v(2), 3)).hasMore).toBe(false);
        expect((await storage.pull(S, v(2), 2)).hasMore).toBe(true);
        expect(await storage.pull(S, v(5), 10)).toEqual({
          records: [],
          head: 5,
          horizon: 0,
          hasMore: false,
          clientLastMid: 0,
        });
        expect(await storage.pull(asScopeId('none'), v(0), 10)).toEqual({
          records: [],
          head: 0,
          horizon: 0,
          hasMore: false,
          clientLastMid: 0,
        });
      });

      it('never shows a later version before an earlier one, nor uncommitted writes, under concurrency', async () => {
        const work: Promise<unknown>[] = [];
        const pages: Promise<{ versions: number[]; head: number }>[] = [];
        // A rolled-back record showing up in a page is marked -1, which no expected page contains.
        const snapshot = () =>
          storage.pull(S, v(0), 1000).then((p) => ({
            versions: p.records.map((r) => (r.id.startsWith('doomed') ? -1 : (r.version as number))),
            head: p.head,
          }));
        for (let i = 0; i < 30; i++) {
          work.push(commit(S, `r${i}`, { i }));
          if (i % 3 === 0) {
            work.push(
              storage
                .transaction(async (tx) => {
                  await change(tx, S, `doomed${i}`, { i });
                  // Reads from outside, issued while this transaction is open, must not see its writes.
                  pages.push(
                    snapshot(),
                    storage
                      .getRecord(S, 'todos', `doomed${i}`)
                      .then((r) => ({ versions: r ? [-1] : [], head: 0 })),
                  );
                  await tx.getRecord(S, 'todos', `doomed${i}`);
                  throw new Error('rolled back');
                })
                .catch(() => undefined),
            );
          }
          pages.push(snapshot());
          pages.push(
            storage.getRecord(S, 'todos', `doomed${i}`).then((r) => ({ versions: r ? [-1] : [], head: 0 })),
          );
        }
        await Promise.all(work);
        for (const page of await Promise.all(pages)) {
          expect(page.versions).toEqual(Array.from({ length: page.head }, (_, k) => k + 1));
        }
        expect(await storage.head(S)).toBe(30);
      });
    });

    describe('scopeHistory', () => {
      it('lists every change of the scope in version order, across records and collections, paged', async () => {
        await commit(S, 'a', { n: 1 }); // 1
        await commit(S, 'b', { n: 1 }, 1000, 'notes'); // 2
        await commit(S2, 'x', { n: 1 });
        await commit(S, 'a', { n: 2 }); // 3
        await commit(S, 'a', null); // 4
        await commit(S, 'c', { n: 1 }); // 5
        const all = await storage.scopeHistory(S, v(0), 100);
        expect(all.entries.map((e) => `${e.collection}/${e.id}@${e.version}`)).toEqual([
          'todos/a@1',
          'notes/b@2',
          'todos/a@3',
          'todos/a@4',
          'todos/c@5',
        ]);
        expect(all).toMatchObject({ head: 5, hasMore: false });
        // The entries are the history entries themselves, every field intact.
        const ofA = await storage.history(S, 'todos', 'a', { limit: 10 });
        expect(all.entries.filter((e) => e.id === 'a')).toEqual([...ofA].reverse());
        expect(all.entries[3]).toMatchObject({ op: 'delete', value: null, prevVersion: 3 });

        const p1 = await storage.scopeHistory(S, v(0), 2);
        expect(versionsOf(p1.entries)).toEqual([1, 2]);
        expect(p1).toMatchObject({ head: 5, hasMore: true });
        const p2 = await storage.scopeHistory(S, v(2), 2);
        expect(versionsOf(p2.entries)).toEqual([3, 4]);
        expect(p2.hasMore).toBe(true);
        const p3 = await storage.scopeHistory(S, v(4), 2);
        expect(versionsOf(p3.entries)).toEqual([5]);
        expect(p3.hasMore).toBe(false);
        expect(await storage.scopeHistory(S, v(5), 10)).toEqual({ entries: [], head: 5, hasMore: false });
        expect(versionsOf((await storage.scopeHistory(S2, v(0), 10)).entries)).toEqual([1]);
        expect(await storage.scopeHistory(asScopeId('none'), v(0), 10)).toEqual({
          entries: [],
          head: 0,
          hasMore: false,
        });
      });

      it('shows holes where retention removed entries', async () => {
        for (let n = 1; n <= 3; n++) await commit(S, 'a', { n }, n); // 1..3
        await commit(S, 'b', { n: 1 }, 1); // 4
        await storage.prune({ keepVersions: 1 }, 10);
        const page = await storage.scopeHistory(S, v(0), 10);
        expect(versionsOf(page.entries)).toEqual([3, 4]);
        expect(page.head).toBe(4);
      });

      it('never shows a later version before an earlier one, nor uncommitted writes, under concurrency', async () => {
        const work: Promise<unknown>[] = [];
        const pages: Promise<{ versions: number[]; head: number }>[] = [];
        const snapshot = () =>
          storage.scopeHistory(S, v(0), 1000).then((p) => ({
            versions: p.entries.map((e) => (e.id.startsWith('doomed') ? -1 : (e.version as number))),
            head: p.head,
          }));
        for (let i = 0; i < 30; i++) {
          work.push(commit(S, `r${i}`, { i }));
          if (i % 3 === 0) {
            work.push(
              storage
                .transaction(async (tx) => {
                  await change(tx, S, `doomed${i}`, { i });
                  pages.push(snapshot());
                  await tx.getRecord(S, 'todos', `doomed${i}`);
                  throw new Error('rolled back');
                })
                .catch(() => undefined),
            );
          }
          pages.push(snapshot());
        }
        await Promise.all(work);
        for (const page of await Promise.all(pages)) {
          expect(page.versions).toEqual(Array.from({ length: page.head }, (_, k) => k + 1));
        }
      });
    });

    describe('sink cursors', () => {
      it("lists the scopes above a sink's cursors, per sink, and resumes from stored cursors", async () => {
        await commit(S, 'a', { n: 1 }); // S@1
        await commit(S, 'a', { n: 2 }); // S@2
        await commit(S2, 'x', { n: 1 }); // S2@1
        expect(await storage.sinkBacklog('rabbit', 10)).toEqual([
          { scope: S, cursor: 0, head: 2 },
          { scope: S2, cursor: 0, head: 1 },
        ]);
        await storage.setSinkCursor('rabbit', S, v(1));
        await storage.setSinkCursor('rabbit', S2, v(1));
        expect(await storage.sinkBacklog('rabbit', 10)).toEqual([{ scope: S, cursor: 1, head: 2 }]);
        // Another sink's position is its own.
        expect(await storage.sinkBacklog('nats', 1)).toEqual([{ scope: S, cursor: 0, head: 2 }]);
        await storage.setSinkCursor('rabbit', S, v(2));
        expect(await storage.sinkBacklog('rabbit', 10)).toEqual([]);
        await commit(S2, 'x', { n: 2 });
        expect(await storage.sinkBacklog('rabbit', 10)).toEqual([{ scope: S2, cursor: 1, head: 2 }]);
        // A cursor may be moved back (a restored database); the backlog follows it.
        await storage.setSinkCursor('rabbit', S, v(0));
        expect((await storage.sinkBacklog('rabbit', 10)).map((e) => e.scope)).toEqual([S, S2]);
      });

      it('ignores rolled-back versions', async () => {
        await storage
          .transaction(async (tx) => {
            await change(tx, S, 'a', { n: 1 });
            throw new Error('rolled back');
          })
          .catch(() => undefined);
        expect(await storage.sinkBacklog('rabbit', 10)).toEqual([]);
      });

      it("registers a sink once: 'now' starts it at every scope's head, 'start' at the beginning", async () => {
        await commit(S, 'a', { n: 1 }); // S@1
        await commit(S, 'a', { n: 2 }); // S@2
        await commit(S2, 'x', { n: 1 }); // S2@1
        await storage.setSinkCursor('hook', S2, v(0)); // a cursor stored before registering stands
        expect(await storage.registerSink('hook', 'now')).toBe(true);
        expect(await storage.sinkBacklog('hook', 10)).toEqual([{ scope: S2, cursor: 0, head: 1 }]);
        await commit(S2, 'x', { n: 2 }); // S2@2
        expect(await storage.sinkBacklog('hook', 10)).toEqual([{ scope: S2, cursor: 0, head: 2 }]);
        // Registered already: nothing moves, even asked for 'now' again after more commits.
        await commit(S, 'a', { n: 3 }); // S@3
        expect(await storage.registerSink('hook', 'now')).toBe(false);
        expect(await storage.sinkBacklog('hook', 10)).toEqual([
          { scope: S, cursor: 2, head: 3 },
          { scope: S2, cursor: 0, head: 2 },
        ]);
        // 'start' delivers the retained history; another sink's registration is its own.
        expect(await storage.registerSink('full', 'start')).toBe(true);
        expect(await storage.registerSink('full', 'now')).toBe(false);
        expect(await storage.sinkBacklog('full', 10)).toEqual([
          { scope: S, cursor: 0, head: 3 },
          { scope: S2, cursor: 0, head: 2 },
        ]);
      });

      it('counts a registration once when it races itself, and scopes created after it start at 0', async () => {
        const results = await Promise.all([0, 1, 2, 3].map(() => storage.registerSink('raced', 'now')));
        expect(results.filter(Boolean)).toHaveLength(1);
        await commit(S, 'a', { n: 1 });
        expect(await storage.sinkBacklog('raced', 10)).toEqual([{ scope: S, cursor: 0, head: 1 }]);
      });
    });

    describe('pull clientLastMid', () => {
      it("reports the asking client's last mid in the same snapshot, 0 when unknown or not asked", async () => {
        await storage.bindClient(CLIENT, 'u1');
        await storage.transaction(async (tx) => {
          await change(tx, S, 'a', { n: 1 });
          await tx.putClient({ clientId: CLIENT, userId: 'u1', lastMid: 7 });
        });
        expect((await storage.pull(S, v(0), 10, CLIENT)).clientLastMid).toBe(7);
        expect((await storage.pull(S, v(0), 10, asClientId('client-none'))).clientLastMid).toBe(0);
        expect((await storage.pull(S, v(0), 10)).clientLastMid).toBe(0);
      });
    });

    describe('clients', () => {
      it('are bound once, with lastMid 0, and never rebound to another user', async () => {
        const row = await storage.bindClient(CLIENT, 'alice');
        expect(row).toEqual({ clientId: CLIENT, userId: 'alice', lastMid: 0 });
        await storage.transaction(async (tx) => {
          expect(await tx.getClient(CLIENT)).toEqual(row);
          await tx.putClient({ ...row, lastMid: 12 });
          expect((await tx.getClient(CLIENT))?.lastMid).toBe(12);
        });
        expect(await storage.bindClient(CLIENT, 'alice')).toEqual({ ...row, lastMid: 12 });
        expect(await storage.bindClient(CLIENT, 'mallory')).toEqual({ ...row, lastMid: 12 });
        await storage.transaction(async (tx) => {
          expect(await tx.getClient(CLIENT)).toEqual({ clientId: CLIENT, userId: 'alice', lastMid: 12 });
          expect(await tx.getClient(asClientId('unknown-client'))).toBeUndefined();
        });
        const other: ClientId = asClientId('client-0002');
        await storage.transaction((tx) => tx.putClient({ clientId: other, userId: 'bob', lastMid: 5 }));
        expect(await storage.bindClient(other, 'bob')).toEqual({
          clientId: other,
          userId: 'bob',
          lastMid: 5,
        });
      });
    });

    describe('scope hash cache', () => {
      /** The cache over this storage, counting the records it reads. */
      function counted() {
        let read = 0;
        const cache = new ScopeHashCache(
          {
            pull: async (...args: Parameters<SyncStorage['pull']>) => {
              const page = await storage.pull(...args);
              read += page.records.length;
              return page;
            },
          },
          { pageSize: 3 },
        );
        return { cache, reads: () => [read, (read = 0)][0]! };
      }
      async function full(scope: ScopeId) {
        const live: StoredRecord[] = [];
        for await (const r of storage.liveRecords(scope)) live.push(r);
        const { hash, count } = scopeHash(live.map((r) => ({ ...r, value: r.value! })));
        return { hash, count, head: await storage.head(scope) };
      }

      it('equals a full walk, and reads only what changed since the last call', async () => {
        const { cache, reads } = counted();
        expect(await cache.hash(S)).toEqual(await full(S));
        for (let i = 0; i < 10; i++) await commit(S, `r${i}`, { n: i });
        await commit(S2, 'other', { n: 1 });
        expect(await cache.hash(S)).toEqual(await full(S));
        expect(reads()).toBe(10);
        // Unchanged: nothing is read again.
        expect(await cache.hash(S)).toEqual(await full(S));
        expect(reads()).toBe(0);
        // An overwrite, a delete, a record of another collection with the same id: three reads.
        await commit(S, 'r1', { n: 100 });
        await commit(S, 'r2', null);
        await commit(S, 'r1', { n: 1 }, 1000, 'notes');
        const after = await cache.hash(S);
        expect(after).toEqual(await full(S));
        expect(after).toMatchObject({ count: 10, head: 13 });
        expect(reads()).toBe(3);
        // A rolled-back transaction changes nothing.
        await expect(
          storage.transaction(async (tx) => {
            await change(tx, S, 'r3', { n: -1 });
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
        expect(await cache.hash(S)).toEqual(after);
        expect(await cache.hash(S2)).toEqual(await full(S2));
      });

      it('stays right when retention removes a tombstone above its head, and for concurrent callers', async () => {
        const { cache } = counted();
        await commit(S, 'a', { n: 1 }, 1);
        await commit(S, 'b', { n: 2 }, 1);
        expect(await cache.hash(S)).toEqual(await full(S));
        await commit(S, 'a', null, 2); // deleted, and its tombstone pruned before the next call
        await storage.prune({ maxAgeMs: 10 }, 100);
        expect((await storage.pull(S, v(0), 10)).horizon).toBe(3);
        expect(await cache.hash(S)).toEqual(await full(S));
        expect((await cache.hash(S)).count).toBe(1);
        await commit(S, 'c', { n: 3 });
        const both = await Promise.all([cache.hash(S), cache.hash(S)]);
        expect(both).toEqual([await full(S), await full(S)]);
      });
    });

    describe('client rows', () => {
      it('are read without being created: an unknown client stays unknown', async () => {
        const stranger = asClientId('client-stranger');
        expect(await storage.getClient(stranger)).toBeUndefined();
        expect((await storage.pull(S, v(0), 10, stranger)).clientLastMid).toBe(0);
        expect(await storage.getClient(stranger)).toBeUndefined();
        await storage.transaction((tx) => tx.putClient({ clientId: stranger, userId: 'u1', lastMid: 3 }));
        expect(await storage.getClient(stranger)).toEqual({ clientId: stranger, userId: 'u1', lastMid: 3 });
      });

      it('with no mid recorded are removed by prune (any policy); a row with a mid never is', async () => {
        const empty = asClientId('client-empty');
        const used = asClientId('client-used');
        await storage.bindClient(empty, 'u1');
        await storage.transaction((tx) => tx.putClient({ clientId: used, userId: 'u1', lastMid: 1 }));
        expect(await storage.prune({}, 1)).toMatchObject({ clientsRemoved: 1 });
        expect(await storage.getClient(empty)).toBeUndefined();
        expect(await storage.getClient(used)).toEqual({ clientId: used, userId: 'u1', lastMid: 1 });
        expect(await storage.prune({ maxAgeMs: 1, keepVersions: 1 }, 1e15)).toMatchObject({
          clientsRemoved: 0,
        });
        expect((await storage.getClient(used))?.lastMid).toBe(1);
      });
    });

    describe('history', () => {
      it('is newest first, with before and limit, and round-trips every field', async () => {
        for (let n = 1; n <= 5; n++) await commit(S, 'a', { n }, 1000 + n);
        await commit(S, 'b', { n: 1 });
        const special: StoredHistoryEntry = {
          scope: S,
          collection: 'todos',
          id: 'a',
          version: v(7),
          prevVersion: v(5),
          op: 'restore',
          value: { n: 2 },
          clientId: null,
          mid: asMid(3),
          userId: null,
          serverTime: 2000,
          conflict: { strategy: 'merge', overwritten: ['title', 'a.b'] },
          restoredFrom: v(2),
        };
        await storage.transaction(async (tx) => {
          await tx.nextVersion(S);
          await tx.appendHistory(special);
        });
        const h = await storage.history(S, 'todos', 'a', { limit: 100 });
        expect(versionsOf(h)).toEqual([7, 5, 4, 3, 2, 1]);
        expect(h[0]).toEqual(special);
        expect(h[1]).toEqual({
          scope: S,
          collection: 'todos',
          id: 'a',
          version: 5,
          prevVersion: 4,
          op: 'put',
          value: { n: 5 },
          clientId: CLIENT,
          mid: null,
          userId: 'u1',
          serverTime: 1005,
          conflict: null,
          restoredFrom: null,
        });
        expect(versionsOf(await storage.history(S, 'todos', 'a', { limit: 2 }))).toEqual([7, 5]);
        expect(versionsOf(await storage.history(S, 'todos', 'a', { before: v(5), limit: 2 }))).toEqual([
          4, 3,
        ]);
        expect(versionsOf(await storage.history(S, 'todos', 'a', { before: v(2), limit: 10 }))).toEqual([1]);
        expect(await storage.history(S, 'todos', 'a', { before: v(1), limit: 10 })).toEqual([]);
        expect(await storage.history(S, 'todos', 'zzz', { limit: 10 })).toEqual([]);
        expect(await storage.history(S2, 'todos', 'a', { limit: 10 })).toEqual([]);

        await storage.transaction(async (tx) => {
          expect(await tx.getHistoryEntry(S, 'todos', 'a', v(7))).toEqual(special);
          expect(await tx.getHistoryEntry(S, 'todos', 'a', v(6))).toBeUndefined();
          const other = asClientId('client-0002');
          /** [reaches, others] of `writesAfter` (scope S unless given). */
          const writes = async (id: string, after: number, client = CLIENT, scope = S) => {
            const w = await tx.writesAfter(scope, 'todos', id, v(after), client);
            return [w.reaches, w.others];
          };
          // a: 1–5 by CLIENT, 7 (on 5) by no client; b: 6 by CLIENT.
          expect(await writes('a', 3)).toEqual([true, true]);
          expect(await writes('a', 5)).toEqual([true, true]);
          expect(await writes('b', 0)).toEqual([true, false]);
          expect(await writes('b', 0, other)).toEqual([true, true]);
          // 6 is not a version of a: the entry after it was written on 5, so history skips 6.
          expect(await writes('a', 6)).toEqual([false, true]);
          expect(await writes('a', 7)).toEqual([false, false]);
          expect(await writes('zzz', 0)).toEqual([false, false]);
          // The transaction's own writes count.
          expect(await writes('b', 6)).toEqual([false, false]);
          expect(await change(tx, S, 'b', { n: 9 })).toBe(8);
          expect(await writes('b', 6)).toEqual([true, false]);
          expect(await writes('b', 6, other)).toEqual([true, true]);
          expect(await writes('a', 0, CLIENT, S2)).toEqual([false, false]);
        });
      });

      it('answers the same after prefetchRecords read records and writesAfter ahead, also once the transaction wrote them', async () => {
        const other = asClientId('client-0002');
        await commit(S, 'a', { n: 1 }); // a@1 by CLIENT
        await storage.transaction(async (tx) => {
          const rec: StoredRecord = {
            ...(await tx.getRecord(S, 'todos', 'a'))!,
            version: await tx.nextVersion(S),
            value: { n: 2 },
            clientId: other,
          };
          await tx.putRecord(rec);
          await tx.appendHistory(entry(rec, 1)); // a@2 by another client
        });
        await commit(S, 'b', { n: 1 }); // b@3 by CLIENT
        const questions = [
          ['a', 0, CLIENT],
          ['a', 1, CLIENT],
          ['a', 2, CLIENT],
          ['a', 1, other],
          ['b', 0, CLIENT],
          ['b', 3, CLIENT],
          ['zzz', 0, CLIENT],
        ] as const;
        const ask = async (tx: StorageTx) => {
          const records: (StoredRecord | undefined)[] = [];
          for (const id of ['a', 'b', 'zzz']) records.push(await tx.getRecord(S, 'todos', id));
          const writes: { reaches: boolean; others: boolean }[] = [];
          for (const [id, after, client] of questions)
            writes.push(await tx.writesAfter(S, 'todos', id, v(after), client));
          return { records, writes };
        };
        /** Asks, writes a, b and zzz, asks again, and rolls everything back. */
        const run = async (prefetched: boolean) => {
          const answers: unknown[] = [];
          await storage
            .transaction(async (tx) => {
              if (prefetched && tx.prefetchRecords) {
                const keys = questions.map(([id, after]) => ({
                  scope: S,
                  collection: 'todos',
                  id,
                  base: v(after),
                }));
                await tx.prefetchRecords(keys, CLIENT);
              }
              answers.push(await ask(tx));
              for (const id of ['a', 'b', 'zzz']) await change(tx, S, id, { n: 9 });
              answers.push(await ask(tx));
              throw new Error('roll back');
            })
            .catch(() => undefined);
          return answers;
        };
        const plain = await run(false);
        expect(plain).toHaveLength(2);
        expect(await run(true)).toEqual(plain);
        expect(
          (plain[1] as Awaited<ReturnType<typeof ask>>).writes.map((w) => [w.reaches, w.others]),
        ).toEqual([
          [true, true],
          [true, true],
          [true, false],
          [true, true],
          [true, false],
          [true, false],
          [true, false],
        ]);
      });

      it('refuses a second entry for the same version', async () => {
        await commit(S, 'a', { n: 1 });
        const dup = (await storage.history(S, 'todos', 'a', { limit: 1 }))[0]!;
        await expect(
          storage.transaction((tx) => tx.appendHistory({ ...dup, value: { n: 666 } })),
        ).rejects.toThrow();
        expect(await storage.history(S, 'todos', 'a', { limit: 10 })).toEqual([dup]);
      });
    });

    describe('prune', () => {
      const DAY = 86_400_000;
      const NOW = 100 * DAY;

      it('removes nothing without limits', async () => {
        await commit(S, 'a', { n: 1 }, 1);
        await commit(S, 'a', null, 2);
        expect(await storage.prune({}, NOW)).toEqual({
          historyRemoved: 0,
          tombstonesRemoved: 0,
          clientsRemoved: 0,
        });
        expect(await storage.history(S, 'todos', 'a', { limit: 10 })).toHaveLength(2);
        expect((await storage.getRecord(S, 'todos', 'a'))?.value).toBeNull();
      });

      it('keeps the newest keepVersions entries per record, and never tombstones on its own', async () => {
        for (let n = 1; n <= 5; n++) await commit(S, 'a', { n }, n); // a: 1..5
        await commit(S, 'b', { n: 1 }, 1); // 6
        await commit(S, 'c', { n: 1 }, 1); // 7
        await commit(S, 'c', null, 2); // 8
        await commit(S2, 'a', { n: 1 }, 1);
        await commit(S2, 'a', { n: 2 }, 1);
        expect(await storage.prune({ keepVersions: 2 }, NOW)).toEqual({
          historyRemoved: 3,
          tombstonesRemoved: 0,
          clientsRemoved: 0,
        });
        expect(versionsOf(await storage.history(S, 'todos', 'a', { limit: 10 }))).toEqual([5, 4]);
        expect(versionsOf(await storage.history(S, 'todos', 'c', { limit: 10 }))).toEqual([8, 7]);
        expect(await storage.prune({ keepVersions: 1 }, NOW)).toEqual({
          historyRemoved: 3,
          tombstonesRemoved: 0,
          clientsRemoved: 0,
        });
        expect(versionsOf(await storage.history(S, 'todos', 'a', { limit: 10 }))).toEqual([5]);
        expect(versionsOf(await storage.history(S, 'todos', 'b', { limit: 10 }))).toEqual([6]);
        expect(versionsOf(await storage.history(S2, 'todos', 'a', { limit: 10 }))).toEqual([2]);
        expect((await storage.getRecord(S, 'todos', 'c'))?.value).toBeNull();
        expect((await storage.pull(S, v(0), 10)).horizon).toBe(0);
        await commit(S, 'a', { n: 6 }, 3); // 9
        // keepVersions 0 leaves only each record's current entry.
        expect(await storage.prune({ keepVersions: 0 }, NOW)).toEqual({
          historyRemoved: 1,
          tombstonesRemoved: 0,
          clientsRemoved: 0,
        });
        expect(versionsOf(await storage.history(S, 'todos', 'a', { limit: 10 }))).toEqual([9]);
        expect(versionsOf(await storage.history(S, 'todos', 'b', { limit: 10 }))).toEqual([6]);
      });

      it('removes entries older than maxAgeMs but always keeps the current version', async () => {
        await commit(S, 'a', { n: 1 }, NOW - 10 * DAY); // 1
        await commit(S, 'a', { n: 2 }, NOW - 9 * DAY); // 2
        await commit(S, 'a', { n: 3 }, NOW - 1 * DAY); // 3
        await commit(S, 'b', { n: 1 }, NOW - 20 * DAY); // 4: old but current
        await commit(S, 'b', { n: 2 }, NOW - 2 * DAY); // 5 … now b's current is 5
        await commit(S, 'c', { n: 1 }, NOW - 30 * DAY); // 6: old but current
        const stats = await storage.prune({ maxAgeMs: 5 * DAY }, NOW);
        expect(stats).toEqual({ historyRemoved: 3, tombstonesRemoved: 0, clientsRemoved: 0 });
        expect(versionsOf(await storage.history(S, 'todos', 'a', { limit: 10 }))).toEqual([3]);
        expect(versionsOf(await storage.history(S, 'todos', 'b', { limit: 10 }))).toEqual([5]);
        expect(versionsOf(await storage.history(S, 'todos', 'c', { limit: 10 }))).toEqual([6]);
        expect(versionsOf((await storage.pull(S, v(0), 10)).records)).toEqual([3, 5, 6]);
        await commit(S, 'a', { n: 4 }, NOW); // 7
        expect(await storage.prune({ maxAgeMs: 5 * DAY, keepVersions: 1 }, NOW)).toEqual({
          historyRemoved: 1,
          tombstonesRemoved: 0,
          clientsRemoved: 0,
        });
        expect(versionsOf(await storage.history(S, 'todos', 'a', { limit: 10 }))).toEqual([7]);
      });

      it('removes old tombstones with all their history and raises the horizon', async () => {
        await commit(S, 'gone', { n: 1 }, NOW - 50 * DAY); // 1
        await commit(S, 'gone', { n: 2 }, NOW - 1 * DAY); // 2 (recent, still removed with the tombstone)
        await commit(S, 'old', { n: 1 }, NOW - 50 * DAY); // 3
        await commit(S, 'gone', null, NOW - 10 * DAY); // 4
        await commit(S, 'fresh', { n: 1 }, NOW - 50 * DAY); // 5
        await commit(S, 'fresh', null, NOW - 1 * DAY); // 6: deleted recently, kept
        await commit(S, 'live', { n: 1 }, NOW); // 7
        await commit(S2, 'x', null, NOW - 50 * DAY); // S2: 1
        const stats = await storage.prune({ maxAgeMs: 5 * DAY }, NOW);
        // gone: 3 entries with its tombstone; fresh: its entry 5; S2/x: 1 entry with its tombstone.
        expect(stats).toEqual({ historyRemoved: 5, tombstonesRemoved: 2, clientsRemoved: 0 });
        expect(await storage.getRecord(S, 'todos', 'gone')).toBeUndefined();
        expect(await storage.history(S, 'todos', 'gone', { limit: 10 })).toEqual([]);
        await storage.transaction(async (tx) => {
          expect(await tx.getHistoryEntry(S, 'todos', 'gone', v(2))).toBeUndefined();
          expect(await tx.writesAfter(S, 'todos', 'gone', v(0), CLIENT)).toEqual({
            reaches: false,
            others: false,
          });
        });
        expect(versionsOf(await storage.history(S, 'todos', 'fresh', { limit: 10 }))).toEqual([6]);
        expect((await storage.getRecord(S, 'todos', 'fresh'))?.value).toBeNull();
        const page = await storage.pull(S, v(0), 10);
        expect(page).toMatchObject({ head: 7, horizon: 4, hasMore: false });
        expect(page.records.map((r) => `${r.id}@${r.version}`)).toEqual(['old@3', 'fresh@6', 'live@7']);
        expect(await storage.pull(S2, v(0), 10)).toEqual({
          records: [],
          head: 1,
          horizon: 1,
          hasMore: false,
          clientLastMid: 0,
        });

        // The horizon only rises; a later removal moves it to the newer tombstone.
        expect(await storage.prune({ maxAgeMs: 5 * DAY }, NOW)).toEqual({
          historyRemoved: 0,
          tombstonesRemoved: 0,
          clientsRemoved: 0,
        });
        expect((await storage.pull(S, v(0), 10)).horizon).toBe(4);
        expect(await storage.prune({ maxAgeMs: 5 * DAY }, NOW + 10 * DAY)).toMatchObject({
          tombstonesRemoved: 1,
          clientsRemoved: 0,
        });
        const later = await storage.pull(S, v(0), 10);
        expect(later).toMatchObject({ head: 7, horizon: 6 });
        expect(versionsOf(later.records)).toEqual([3, 7]);
        // Clocks can step back: a lower-versioned tombstone removed later must not lower the horizon.
        await commit(S2, 'y', null, NOW + 20 * DAY); // 2
        await commit(S2, 'z', null, NOW - 20 * DAY); // 3
        expect(await storage.prune({ maxAgeMs: 5 * DAY }, NOW)).toMatchObject({
          tombstonesRemoved: 1,
          clientsRemoved: 0,
        });
        expect((await storage.pull(S2, v(0), 10)).horizon).toBe(3);
        expect(await storage.prune({ maxAgeMs: 5 * DAY }, NOW + 30 * DAY)).toMatchObject({
          tombstonesRemoved: 1,
          clientsRemoved: 0,
        });
        expect(await storage.pull(S2, v(0), 10)).toMatchObject({ records: [], head: 3, horizon: 3 });
        // Versions keep counting from the head, not the horizon.
        expect(await commit(S, 'gone', { n: 3 }, NOW)).toBe(8);
      });
    });

    describe('concurrency', () => {
      it('serializes 50 parallel transactions into versions 1..50 with no lost update', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            storage.transaction(async (tx) => {
              const raw = (await tx.getRecord(S, 'todos', 'counter'))?.value?.['n'] ?? 0;
              const n = typeof raw === 'number' ? raw : NaN;
              const version = await tx.nextVersion(S);
              await tx.putRecord({
                scope: S,
                collection: 'todos',
                id: 'counter',
                version,
                value: { n: n + 1 },
                clientId: CLIENT,
                mid: asMid(i + 1),
                updatedAt: 1,
              });
              return version;
            }),
          ),
        );
        expect(new Set(results).size).toBe(50);
        expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect((await storage.getRecord(S, 'todos', 'counter'))?.value).toEqual({ n: 50 });
        expect(await storage.head(S)).toBe(50);
      });

      it('gives the 60 successful of 70 parallel callers exactly 1..60: failed ones leave no gap', async () => {
        const settled = await Promise.allSettled(
          Array.from({ length: 70 }, (_, i) =>
            storage.transaction(async (tx) => {
              const version = await tx.nextVersion(S);
              if (i % 7 === 3) throw new Error(`fail ${i}`);
              return version;
            }),
          ),
        );
        const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
        expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(10);
        expect(new Set(ok).size).toBe(60);
        expect([...ok].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
        expect(await storage.head(S)).toBe(60);
      });

      it('lets pending transactions finish before close', async () => {
        const pending = storage.transaction(async (tx) => {
          await tx.nextVersion(S);
          return await tx.nextVersion(S);
        });
        await storage.close();
        await expect(pending).resolves.toBe(2);
      });
    });
  });
}
