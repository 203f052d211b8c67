import { afterEach, describe, expect, it } from 'vitest';
// helpers first: it installs fake-indexeddb before Dexie loads.
import {
  converged,
  device,
  settled,
  until,
  SCOPE,
  type Card,
  type Device,
} from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';
import { Dexie, type DBCore, type Middleware } from 'dexie';
import { firstValueFrom } from 'rxjs';
import {
  createSyncClient,
  ManualNetwork,
  memoryElection,
  synclineStores,
  type OutboxEntry,
  type SyncClient,
  type SyncErrorEvent,
  type SyncClientOptions,
} from '@syncline/client';

interface Tag {
  id: string;
  board: string;
  label: string;
}

let server: TestServer | undefined;
const clients: SyncClient[] = [];
const devices: Device[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
  server = undefined;
});

let dbs = 0;
const dbName = () => `adopt-${process.pid}-${++dbs}`;
const cardsOf = (n: number, from = 0): Card[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `c${String(from + i).padStart(5, '0')}`,
    board: '1',
    title: `card ${from + i}`,
  }));

/** Version 1 of the app: plain Dexie, no Syncline, with `cards` (and `tags`) rows. */
async function v1(name: string, cards: Card[], tags: Tag[] = []): Promise<void> {
  const db = new Dexie(name);
  db.version(1).stores({ cards: 'id, board', tags: 'id' });
  await db.open();
  await db.table('cards').bulkAdd(cards);
  await db.table('tags').bulkAdd(tags);
  db.close();
}

type AppDb = Dexie & { cards: Dexie.Table<Card, string>; tags: Dexie.Table<Tag, string> };

/**
 * Version 2 of the app: Syncline's stores added, `cards` synced. Version 3 also syncs `tags`.
 * Started (it leads its own election); `online` false keeps the engine offline.
 */
async function app(
  name: string,
  opts: {
    version?: 2 | 3;
    online?: boolean;
    client?: Partial<SyncClientOptions>;
    /** Runs on the Dexie instance before Syncline is installed (e.g. a fault middleware). */
    setup?: (db: Dexie) => void;
    /** Runs on the client before it starts (e.g. to watch `errors$` from the first moment). */
    beforeStart?: (sync: SyncClient) => void;
  } = {},
): Promise<{ db: AppDb; sync: SyncClient; network: ManualNetwork }> {
  const version = opts.version ?? 2;
  const db = new Dexie(name) as AppDb;
  db.version(1).stores({ cards: 'id, board', tags: 'id' });
  db.version(2).stores({ ...synclineStores });
  if (version === 3) db.version(3).stores({ tags: 'id, board' });
  opts.setup?.(db);
  const network = new ManualNetwork(opts.online ?? true);
  const board = (r: { board?: unknown }) => `board:${r.board as string}`;
  const sync = createSyncClient(db, {
    url: server!.url,
    tables: version === 3 ? { cards: { scope: board }, tags: { scope: board } } : { cards: { scope: board } },
    scopes: [SCOPE],
    network,
    election: memoryElection(),
    backoff: { baseMs: 20, capMs: 200 },
    requestTimeoutMs: 5_000,
    ...opts.client,
  });
  clients.push(sync);
  opts.beforeStart?.(sync);
  await sync.start();
  return { db, sync, network };
}

async function secondDevice(): Promise<Device> {
  const d = device(server!.url);
  devices.push(d);
  await d.sync.start();
  return d;
}

const outbox = (sync: SyncClient): Promise<OutboxEntry[]> => firstValueFrom(sync.outbox$);

/** The server's view of the scope: record count and head version (one version per write). */
async function serverScope(sync: SyncClient): Promise<{ count: number; head: number }> {
  const h = await sync.serverHash(SCOPE);
  return { count: h.count, head: h.head };
}

/** The outbox of a database read without Syncline (e.g. after its client crashed). */
async function rawOutbox(name: string): Promise<OutboxEntry[]> {
  const raw = new Dexie(name);
  await raw.open();
  try {
    return await raw.table<OutboxEntry>('_syncline_outbox').orderBy('mid').toArray();
  } finally {
    raw.close();
  }
}

const dense = (entries: OutboxEntry[]) => entries.every((e, i) => e.mid === i + 1);

describe('rows that exist before a table is synced are adopted', () => {
  it('5,000 v1 rows reach the server and a second device once v2 adds Syncline; edits to them sync', async () => {
    server = await startServer();
    const name = dbName();
    await v1(name, cardsOf(5000));
    const a = await app(name);
    const seen: number[] = [];
    const sub = a.sync.status$.subscribe((s) => {
      if (s.adoption && s.adoption.table === 'cards') seen.push(s.adoption.done);
    });
    await until(a.sync, (s) => settled(s) && s.adoption === null, 60_000);
    sub.unsubscribe();
    // Progress was visible, chunk by chunk, up to every row.
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[seen.length - 1]).toBe(5000);
    expect(await serverScope(a.sync)).toEqual({ count: 5000, head: 5000 });

    const b = await secondDevice();
    await converged(b, SCOPE, 60_000);
    expect(await b.db.cards.count()).toBe(5000);
    expect(await b.db.cards.get('c04321')).toEqual({ id: 'c04321', board: '1', title: 'card 4321' });

    await a.db.cards.update('c00007', { title: 'edited' });
    await a.db.cards.delete('c00008');
    await until(a.sync, settled);
    await converged(b);
    expect((await b.db.cards.get('c00007'))?.title).toBe('edited');
    expect(await b.db.cards.get('c00008')).toBeUndefined();
    expect(await firstValueFrom(a.sync.rejections$)).toEqual([]);
    expect(await serverScope(a.sync)).toEqual({ count: 4999, head: 5002 });
  }, 90_000);

  it('a crash halfway loses and duplicates nothing: the next start resumes where it stopped', async () => {
    server = await startServer();
    const name = dbName();
    await v1(name, cardsOf(5000));
    const first = await app(name, { online: false });
    await until(first.sync, (s) => (s.adoption?.done ?? 0) >= 1500, 30_000);
    first.db.close(); // the tab is gone: whatever chunk was running commits or not, as a whole
    const atCrash = await rawOutbox(name);
    expect(atCrash.length).toBeGreaterThanOrEqual(1500);
    expect(atCrash.length).toBeLessThan(5000);
    expect(dense(atCrash)).toBe(true);

    const second = await app(name, { online: false });
    await until(second.sync, (s) => s.adoption === null && s.pending === 5000 && s.isLeader, 30_000);
    const all = await outbox(second.sync);
    expect(all).toHaveLength(5000);
    expect(dense(all)).toBe(true);
    expect(new Set(all.map((e) => e.key)).size).toBe(5000);
    expect(all.every((e) => e.mutation.op === 'put' && e.mutation.base === 0)).toBe(true);
    // What the crashed run queued is kept as it was, not queued again.
    expect(all.slice(0, atCrash.length).map((e) => e.key)).toEqual(atCrash.map((e) => e.key));

    second.network.set(true);
    await until(second.sync, settled, 60_000);
    expect(await serverScope(second.sync)).toEqual({ count: 5000, head: 5000 });
    const b = await secondDevice();
    await converged(b, SCOPE, 60_000);
    expect(await b.db.cards.count()).toBe(5000);
  }, 90_000);

  it('rows written while adoption runs are neither lost nor uploaded twice', async () => {
    server = await startServer();
    const name = dbName();
    await v1(name, cardsOf(5000));
    const a = await app(name, { online: false });
    await until(a.sync, (s) => (s.adoption?.done ?? 0) >= 1000, 30_000);
    await a.db.transaction('rw', ['cards', '_syncline_records'], async () => {
      // Not adopted yet: these writes reach the walk's rows before it does.
      expect(await a.db.table('_syncline_records').get(['cards', 'c04000'])).toBeUndefined();
      expect(await a.db.table('_syncline_records').get(['cards', 'c04500'])).toBeUndefined();
      expect(await a.db.table('_syncline_records').get(['cards', 'c00001'])).toBeDefined();
      await a.db.cards.update('c04000', { title: 'edited before its adoption' });
      await a.db.cards.delete('c04500');
      await a.db.cards.update('c00001', { title: 'edited after its adoption' });
      await a.db.cards.put({ id: 'new', board: '1', title: 'new' });
    });
    await until(a.sync, (s) => s.adoption === null && s.isLeader, 30_000);
    const all = await outbox(a.sync);
    // 4,999 creates (c04500 is gone), the new row's create, one patch of an adopted row.
    expect(all).toHaveLength(5001);
    expect(new Set(all.filter((e) => e.mutation.op === 'put').map((e) => e.key)).size).toBe(5000);

    a.network.set(true);
    await until(a.sync, settled, 60_000);
    expect(await firstValueFrom(a.sync.rejections$)).toEqual([]);
    expect(await serverScope(a.sync)).toEqual({ count: 5000, head: 5001 });
    const b = await secondDevice();
    await converged(b, SCOPE, 60_000);
    expect((await b.db.cards.get('c04000'))?.title).toBe('edited before its adoption');
    expect((await b.db.cards.get('c00001'))?.title).toBe('edited after its adoption');
    expect(await b.db.cards.get('c04500')).toBeUndefined();
    expect((await b.db.cards.get('new'))?.title).toBe('new');
  }, 90_000);

  it('tabs: only the leader adopts; a follower writes meanwhile; the next leader resumes the walk', async () => {
    server = await startServer();
    const name = dbName();
    await v1(name, cardsOf(5000));
    const election = memoryElection();
    const first = await app(name, { online: false, client: { election } });
    const second = await app(name, { online: false, client: { election } });
    await until(first.sync, (s) => (s.adoption?.done ?? 0) >= 1000, 30_000);
    expect((await firstValueFrom(second.sync.status$)).isLeader).toBe(false);
    // The follower edits a row the walk has not reached; then the leader tab goes away.
    await second.db.cards.update('c04999', { title: 'edited in the follower' });
    const totals: number[] = [];
    const sub = second.sync.status$.subscribe((s) => s.adoption && totals.push(s.adoption.total));
    await first.sync.close();
    await until(second.sync, (s) => s.isLeader && s.adoption === null && s.pending === 5000, 30_000);
    sub.unsubscribe();
    // It walked on from where the first leader stopped, not from the start.
    expect(totals[0]).toBeLessThanOrEqual(4000);
    const all = await outbox(second.sync);
    expect(dense(all)).toBe(true);
    expect(new Set(all.map((e) => e.key)).size).toBe(5000);
    second.network.set(true);
    await until(second.sync, settled, 60_000);
    expect(await serverScope(second.sync)).toEqual({ count: 5000, head: 5000 });
    const b = await secondDevice();
    await converged(b, SCOPE, 60_000);
    expect((await b.db.cards.get('c04999'))?.title).toBe('edited in the follower');
  }, 90_000);

  it('a failed run is reported and retried; the retry queues each row once', async () => {
    server = await startServer();
    const name = dbName();
    await v1(name, cardsOf(1200));
    let outboxWrites = 0;
    const failThird: Middleware<DBCore> = {
      stack: 'dbcore',
      name: 'FailThirdOutboxWrite',
      level: 0, // below the outbox middleware: sees its writes
      create: (down) => ({
        ...down,
        table: (tableName) => {
          const table = down.table(tableName);
          if (tableName !== '_syncline_outbox') return table;
          return {
            ...table,
            mutate: (req) =>
              ++outboxWrites === 3
                ? Dexie.Promise.reject(new Error('simulated storage failure'))
                : table.mutate(req),
          };
        },
      }),
    };
    const errors: SyncErrorEvent[] = [];
    const a = await app(name, {
      online: false,
      setup: (db) => db.use(failThird),
      beforeStart: (sync) => sync.errors$.subscribe((e) => errors.push(e)),
    });
    const failed = await until(a.sync, (s) => s.lastError !== null, 30_000);
    expect(failed.lastError?.message).toContain('simulated storage failure');
    // Reported on errors$ too, where an app listens for sync errors.
    expect(errors.map((e) => [e.code, e.message.includes('simulated storage failure')])).toEqual([
      ['internal', true],
    ]);
    await until(a.sync, (s) => s.adoption === null && s.pending === 1200 && s.isLeader, 30_000);
    const all = await outbox(a.sync);
    expect(dense(all)).toBe(true);
    expect(new Set(all.map((e) => e.key)).size).toBe(1200);
    a.network.set(true);
    await until(a.sync, settled, 30_000);
    expect(await serverScope(a.sync)).toEqual({ count: 1200, head: 1200 });
  }, 60_000);

  it('a table added to `tables` later (v3) is adopted the same way; the first table is not again', async () => {
    server = await startServer();
    const name = dbName();
    const tags = Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, board: '1', label: `tag ${i}` }));
    await v1(name, cardsOf(300), tags);
    const a2 = await app(name);
    await until(a2.sync, (s) => settled(s) && s.adoption === null, 30_000);
    expect(await serverScope(a2.sync)).toEqual({ count: 300, head: 300 });
    await a2.sync.close();

    const a3 = await app(name, { version: 3, online: false });
    await until(a3.sync, (s) => s.adoption === null && s.pending === 200 && s.isLeader, 30_000);
    const queued = await outbox(a3.sync);
    expect(queued.every((e) => e.table === 'tags' && e.mutation.op === 'put')).toBe(true);
    expect(queued.map((e) => e.mid)).toEqual(Array.from({ length: 200 }, (_, i) => 301 + i));
    a3.network.set(true);
    await until(a3.sync, settled, 30_000);
    expect(await serverScope(a3.sync)).toEqual({ count: 500, head: 500 });
    await a3.db.tags.update('t5', { label: 'edited' });
    await until(a3.sync, settled);
    expect(await serverScope(a3.sync)).toEqual({ count: 500, head: 501 });
    expect(await firstValueFrom(a3.sync.rejections$)).toEqual([]);
  }, 60_000);

  it('rows the outbox middleware refuses are skipped and kept locally; the rest of their chunk is adopted', async () => {
    server = await startServer();
    const name = dbName();
    const bad = { id: 'bad\u0000id', board: '1', title: 'no valid record id' };
    await v1(name, [...cardsOf(600), bad, ...cardsOf(10, 600)]);
    const a = await app(name);
    const skipped: number[] = [];
    const sub = a.sync.status$.subscribe((s) => s.adoption && skipped.push(s.adoption.skipped));
    await until(a.sync, (s) => settled(s) && s.adoption === null, 30_000);
    sub.unsubscribe();
    expect(skipped[skipped.length - 1]).toBe(1);
    expect(await serverScope(a.sync)).toEqual({ count: 610, head: 610 });
    expect(await a.db.cards.get(bad.id)).toEqual(bad);
    expect(await a.db.cards.count()).toBe(611);
  });

  it('an adopted row the server refuses is reported and kept as it was locally', async () => {
    server = await startServer({
      collections: { cards: { validate: (v) => (v.title === 'refused' ? 'no refused cards' : undefined) } },
    });
    const name = dbName();
    await v1(name, [
      { id: 'ok', board: '1', title: 'fine' },
      { id: 'no', board: '1', title: 'refused' },
    ]);
    const a = await app(name);
    await until(a.sync, (s) => settled(s) && s.adoption === null && s.rejections === 1);
    const [rejection] = await firstValueFrom(a.sync.rejections$);
    expect(rejection).toMatchObject({ table: 'cards', id: 'no', error: { code: 'validation_failed' } });
    expect(await a.db.cards.get('no')).toEqual({ id: 'no', board: '1', title: 'refused' });
    expect(await serverScope(a.sync)).toEqual({ count: 1, head: 1 });
  });

  it('a table that stops being synced and comes back has the rows written meanwhile adopted', async () => {
    server = await startServer();
    const name = dbName();
    await v1(name, cardsOf(10), [{ id: 't1', board: '1', label: 'tag' }]);
    const both = await app(name, { version: 3 });
    await until(both.sync, (s) => settled(s) && s.adoption === null);
    expect(await serverScope(both.sync)).toEqual({ count: 11, head: 11 });
    await both.sync.close();

    const board = (r: { board?: unknown }) => `board:${r.board as string}`;
    const tagsOnly = await app(name, { version: 3, client: { tables: { tags: { scope: board } } } });
    await until(tagsOnly.sync, (s) => settled(s) && s.adoption === null);
    await tagsOnly.db.cards.put({ id: 'late', board: '1', title: 'written while cards were not synced' });
    await until(tagsOnly.sync, settled);
    expect(await serverScope(tagsOnly.sync)).toEqual({ count: 11, head: 11 });
    await tagsOnly.sync.close();

    const again = await app(name, { version: 3 });
    await until(again.sync, (s) => settled(s) && s.adoption === null);
    expect(await serverScope(again.sync)).toEqual({ count: 12, head: 12 });
  });

  it('an unchanged restart walks nothing again', async () => {
    server = await startServer();
    const name = dbName();
    await v1(name, cardsOf(50));
    const a = await app(name);
    await until(a.sync, (s) => settled(s) && s.adoption === null);
    await a.sync.close();
    const again = await app(name);
    const seen: unknown[] = [];
    const sub = again.sync.status$.subscribe((s) => s.adoption && seen.push(s.adoption));
    await until(again.sync, (s) => settled(s) && s.adoption === null);
    sub.unsubscribe();
    expect(seen).toEqual([]);
    expect(await serverScope(again.sync)).toEqual({ count: 50, head: 50 });
  });

  it('the leader connects while it adopts, and subscribes only once every row is queued', async () => {
    server = await startServer();
    const name = dbName();
    await v1(name, cardsOf(3000));
    // What the server sees, in order, beside the client's own adoption progress.
    const timeline: string[] = [];
    server.server.io.on('connection', (socket) => {
      timeline.push('connection');
      socket.onAny((event: string) => timeline.push(event));
    });
    const a = await app(name, {
      beforeStart: (sync) =>
        sync.status$.subscribe((s) => {
          if (s.adoption !== null && !timeline.includes('adopting')) timeline.push('adopting');
          if (s.adoption === null && timeline.includes('adopting') && !timeline.includes('adopted'))
            timeline.push('adopted');
        }),
    });
    await until(a.sync, (s) => settled(s) && s.adoption === null, 60_000);
    // The handshake overlapped the walk (3,000 rows take many chunks, the handshake one round
    // trip); the subscription came after the last row was queued.
    const at = (event: string) => timeline.indexOf(event);
    expect(at('adopting')).toBeGreaterThan(-1);
    expect(at('connection')).toBeGreaterThan(-1);
    expect(at('connection')).toBeLessThan(at('adopted'));
    expect(at('subscribe')).toBeGreaterThan(at('adopted'));
    expect(await serverScope(a.sync)).toEqual({ count: 3000, head: 3000 });
  }, 60_000);
});

describe('an adopted id the server already has is decided by the collection strategy', () => {
  /** The server holds c00001 from another device; this app's v1 has its own c00001 and c00002. */
  async function clash(strategy: 'lww' | 'manual' | 'merge') {
    server = await startServer({ collections: { cards: { strategy } } });
    const other = await secondDevice();
    await other.db.cards.put({ id: 'c00001', board: '1', title: 'server', status: 'todo' });
    await until(other.sync, settled);
    const name = dbName();
    await v1(name, [
      { id: 'c00001', board: '1', title: 'local', notes: 'mine' },
      { id: 'c00002', board: '1', title: 'only here' },
    ]);
    const a = await app(name);
    await until(a.sync, (s) => settled(s) && s.adoption === null);
    await converged(other);
    return { a, other };
  }

  it('an id the server has deleted: delete wins (merge), like any write concurrent with a delete', async () => {
    server = await startServer();
    const other = await secondDevice();
    await other.db.cards.put({ id: 'c00001', board: '1', title: 'server' });
    await until(other.sync, settled);
    await other.db.cards.delete('c00001');
    await until(other.sync, settled);
    const name = dbName();
    await v1(name, [
      { id: 'c00001', board: '1', title: 'local' },
      { id: 'c00002', board: '1', title: 'only here' },
    ]);
    const a = await app(name);
    await until(a.sync, (s) => settled(s) && s.adoption === null);
    expect(await a.db.cards.get('c00001')).toBeUndefined();
    expect((await a.db.cards.get('c00002'))?.title).toBe('only here');
    expect(await serverScope(a.sync)).toEqual({ count: 1, head: 3 });
  });

  it('lww: the adopted row is the later write and wins', async () => {
    const { a, other } = await clash('lww');
    const expected = { id: 'c00001', board: '1', title: 'local', notes: 'mine' };
    expect(await other.db.cards.get('c00001')).toEqual(expected);
    expect(await a.db.cards.get('c00001')).toEqual(expected);
    expect((await other.db.cards.get('c00002'))?.title).toBe('only here');
  });

  it('merge: fields are united, the adopted row winning where both differ', async () => {
    const { a, other } = await clash('merge');
    const expected = { id: 'c00001', board: '1', title: 'local', notes: 'mine', status: 'todo' };
    expect(await other.db.cards.get('c00001')).toEqual(expected);
    expect(await a.db.cards.get('c00001')).toEqual(expected);
  });

  it('manual: the adopted row goes to the conflict inbox; "mine" then uploads it', async () => {
    const { a, other } = await clash('manual');
    const [conflict, ...more] = await firstValueFrom(a.sync.conflicts$);
    expect(more).toEqual([]);
    expect(conflict).toMatchObject({
      table: 'cards',
      id: 'c00001',
      base: null,
      mine: { id: 'c00001', board: '1', title: 'local', notes: 'mine' },
      theirs: { value: { id: 'c00001', board: '1', title: 'server', status: 'todo' } },
    });
    // Until it is settled, both copies show the server's record.
    expect((await a.db.cards.get('c00001'))?.title).toBe('server');
    expect((await other.db.cards.get('c00001'))?.title).toBe('server');
    await a.sync.resolveConflict(conflict!.mid, 'mine');
    await until(a.sync, (s) => settled(s) && s.conflicts === 0);
    await converged(other);
    expect(await other.db.cards.get('c00001')).toEqual({
      id: 'c00001',
      board: '1',
      title: 'local',
      notes: 'mine',
      status: 'todo',
    });
  });
});
