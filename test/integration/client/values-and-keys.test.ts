import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { Dexie } from 'dexie';
import type { AppMutation, FeedLine, JsonObject, Mid, ScopeId, Version } from '@syncline/protocol';
import {
  createIdGenerator,
  createSyncClient,
  ManualNetwork,
  memoryElection,
  newId,
  synclineStores,
  SynclineError,
  SynclineWriteError,
  type SyncClient,
} from '@syncline/client';
import { settled, until } from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';

const SCOPE = 'space:1' as ScopeId;
const TABLES = {
  notes: { scope: SCOPE },
  counters: { scope: SCOPE },
  cells: { scope: SCOPE },
};

interface Peer {
  readonly db: Dexie;
  readonly sync: SyncClient;
}

let server: TestServer | undefined;
const peers: Peer[] = [];
let n = 0;
afterEach(async () => {
  for (const p of peers.splice(0)) await p.sync.close();
  await server?.stop();
  server = undefined;
});

/** A device with a string-keyed table (a Date index), a number-keyed one and a compound-keyed one. */
async function peer(url: string): Promise<Peer> {
  const db = new Dexie(`values-${process.pid}-${++n}`);
  db.version(1).stores({ notes: 'id, when', counters: 'n', cells: '[sheet+row]', ...synclineStores });
  const sync = createSyncClient(db, {
    url,
    tables: TABLES,
    scopes: [SCOPE],
    network: new ManualNetwork(true),
    election: memoryElection(),
    backoff: { baseMs: 20, capMs: 200 },
  });
  peers.push({ db, sync });
  await sync.start();
  return { db, sync };
}

/** Settled, and this device's content hash equals the server's (both hash the wire encoding). */
async function converged(p: Peer): Promise<void> {
  await expect
    .poll(
      async () => {
        await until(p.sync, settled);
        const [local, remote] = await Promise.all([p.sync.localHash(SCOPE), p.sync.serverHash(SCOPE)]);
        return local.hash === remote.hash;
      },
      { timeout: 10_000, interval: 20 },
    )
    .toBe(true);
}

const bytes = (...b: number[]) => new Uint8Array(b);
const WHEN = new Date('2024-05-01T12:34:56.789Z');

/** A note with every value type, nested, and user data shaped like the tags. */
function richNote(id: string) {
  return {
    id,
    when: WHEN,
    bytes: bytes(0, 1, 254, 255),
    empty: new Uint8Array(0),
    buf: bytes(7, 8).buffer,
    nested: { list: [new Date(0), bytes(3)], deep: { at: new Date(-1) } },
    spoofDate: { $date: '2024-01-01T00:00:00.000Z' },
    spoofBytes: { $bytes: 'AAAA' },
    $dollar: { $$x: 1 },
  };
}

function expectRich(row: unknown, id: string): void {
  expect(row).toEqual(richNote(id));
  const r = row as ReturnType<typeof richNote>;
  expect(r.when).toBeInstanceOf(Date);
  expect(r.bytes).toBeInstanceOf(Uint8Array);
  expect(r.buf).toBeInstanceOf(ArrayBuffer);
  expect(r.nested.list[0]).toBeInstanceOf(Date);
  // The user's tag-shaped objects come back as those plain objects, not a Date or bytes.
  expect(r.spoofDate).not.toBeInstanceOf(Date);
  expect(r.spoofDate).toEqual({ $date: '2024-01-01T00:00:00.000Z' });
}

async function feedOverHttp(url: string): Promise<FeedLine[]> {
  const res = await fetch(`${url}/v1/changes?scope=${SCOPE}&follow=false`, {
    headers: { authorization: 'Bearer backend', accept: 'application/x-ndjson' },
  });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FeedLine);
}

describe('values and keys', () => {
  it('syncs Date and binary values and string, number and compound keys between devices, into history and the change feed', async () => {
    server = await startServer();
    const a = await peer(server.url);
    const b = await peer(server.url);
    const id = newId();
    await a.db.table('notes').put(richNote(id));
    // The number 1 and the string "1" are two records.
    await a.db.table('counters').bulkPut([
      { n: 1, at: WHEN, label: 'number' },
      { n: '1', at: new Date(5), label: 'string' },
      { n: -2.5, label: 'negative' },
    ]);
    await a.db.table('cells').put({ sheet: 's1', row: 2, v: bytes(9) });
    await converged(a);
    await converged(b);

    expectRich(await b.db.table('notes').get(id), id);
    expect(await b.db.table('counters').get(1)).toEqual({ n: 1, at: WHEN, label: 'number' });
    expect(await b.db.table('counters').get('1')).toEqual({ n: '1', at: new Date(5), label: 'string' });
    expect(await b.db.table('counters').get(-2.5)).toEqual({ n: -2.5, label: 'negative' });
    expect(await b.db.table('cells').get(['s1', 2])).toEqual({ sheet: 's1', row: 2, v: bytes(9) });
    // The app row holds a real Date, so a Dexie index on it works.
    const later = await b.db.table('notes').where('when').above(new Date('2024-01-01')).primaryKeys();
    expect(later).toEqual([id]);

    // Updates: a Date replaced, bytes set inside a nested object, a number-keyed field patched.
    const when2 = new Date('2025-01-01T00:00:00.000Z');
    await a.db.table('notes').update(id, { when: when2, 'nested.deep.at': when2, 'spoofDate.$date': 'x' });
    await b.db.table('counters').update(1, { at: when2 });
    await b.db.table('cells').update(['s1', 2], { v: bytes(1, 2, 3) });
    await converged(a);
    await converged(b);
    const note = (await b.db.table('notes').get(id)) as ReturnType<typeof richNote>;
    expect(note.when).toEqual(when2);
    expect(note.nested.deep.at).toEqual(when2);
    expect(note.spoofDate).toEqual({ $date: 'x' });
    expect(await a.db.table('counters').get(1)).toMatchObject({ at: when2 });
    expect(await a.db.table('cells').get(['s1', 2])).toMatchObject({ v: bytes(1, 2, 3) });

    // History, by the app's keys, in the app's types.
    const history = await b.sync.history('notes', id);
    expect(history.map((e) => e.op)).toEqual(['patch', 'put']);
    expect(history[1]!.value).toEqual(richNote(id));
    expect(history[0]!.value!.when).toEqual(when2);
    const numbered = await a.sync.history('counters', 1);
    expect(numbered.map((e) => e.value?.label)).toEqual(['number', 'number']);
    expect((await a.sync.history('counters', '1')).map((e) => e.value?.label)).toEqual(['string']);
    expect((await a.sync.history('cells', ['s1', 2]))[0]!.value!.v).toEqual(bytes(1, 2, 3));

    // The Node change feed decodes; the HTTP feed carries the documented wire encoding.
    const node = [];
    for await (const c of server.server.changes(SCOPE, { follow: false })) node.push(c);
    const firstNote = node.find((c) => c.collection === 'notes')!;
    expect(firstNote.value).toEqual(richNote(id));
    expect(node.map((c) => c.id)).toEqual(expect.arrayContaining([id, '~n1', '1', '~n-2.5', '~a["s1",2]']));
    const http = (await feedOverHttp(server.url)).flatMap((l) => (l.type === 'change' ? [l.change] : []));
    const wireNote = http.find((c) => c.collection === 'notes')!.value!;
    expect(wireNote).toMatchObject({
      when: { $date: '2024-05-01T12:34:56.789Z' },
      bytes: { $bytes: 'AAH+/w==' },
      empty: { $bytes: '' },
      buf: { $arraybuffer: 'Bwg=' },
      spoofDate: { $$date: '2024-01-01T00:00:00.000Z' },
      $$dollar: { $$$x: 1 },
    });
  });

  it('applies server-side writes in the app types (Node API) and in the wire encoding (HTTP)', async () => {
    server = await startServer();
    const b = await peer(server.url);
    const mutations: AppMutation[] = [
      {
        mid: 1 as Mid,
        scope: SCOPE,
        collection: 'notes',
        id: 'srv',
        base: 0 as Version,
        op: 'put',
        value: { id: 'srv', when: WHEN, data: bytes(1, 2), shaped: { $date: 'plain' } },
      },
      {
        mid: 2 as Mid,
        scope: SCOPE,
        collection: 'counters',
        id: '~n7',
        base: 0 as Version,
        op: 'put',
        value: { n: 7, at: new Date(7) },
      },
    ];
    const principal = { id: 'backend' };
    expect(await server.server.applyMutations(principal, mutations)).toMatchObject({ ok: true });
    const post = (body: unknown) =>
      fetch(`${server!.url}/v1/mutations`, {
        method: 'POST',
        headers: { authorization: 'Bearer backend', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const wirePut = (mid: number, id: string, value: JsonObject) => ({
      mutations: [{ mid, scope: SCOPE, collection: 'notes', id, base: 0, op: 'put', value }],
    });
    expect(
      (
        await post(
          wirePut(3, 'http', {
            id: 'http',
            at: { $date: '2030-01-01T00:00:00.000Z' },
            raw: { $bytes: 'AQI=' },
          }),
        )
      ).body,
    ).toMatchObject({ ok: true });
    // A value that is not a valid encoding is refused, and nothing is written.
    for (const bad of [
      { at: { $date: 'tomorrow' } },
      { at: { $unknown: 1 } },
      { $date: '2030-01-01T00:00:00.000Z' },
    ]) {
      const res = await post(wirePut(4, 'bad', bad));
      expect(res.body).toMatchObject({ ok: false, error: { code: 'invalid_value' } });
    }
    // So is an app value the Node API cannot encode.
    const invalid = await server.server.applyMutations(principal, [
      { ...mutations[0]!, mid: 4 as Mid, id: 'nan', value: { when: new Date(NaN) } } as AppMutation,
    ]);
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid_value' } });

    await converged(b);
    expect(await b.db.table('notes').get('srv')).toEqual({
      id: 'srv',
      when: WHEN,
      data: bytes(1, 2),
      shaped: { $date: 'plain' },
    });
    expect(await b.db.table('counters').get(7)).toEqual({ n: 7, at: new Date(7) });
    expect(await b.db.table('notes').get('http')).toEqual({
      id: 'http',
      at: new Date('2030-01-01T00:00:00.000Z'),
      raw: bytes(1, 2),
    });
    expect(await b.db.table('notes').get('bad')).toBeUndefined();
  });

  it('lets validate hooks see decoded values', async () => {
    const seen: unknown[] = [];
    server = await startServer({
      collections: {
        notes: {
          validate: (value) => {
            seen.push(value.when);
            return value.when instanceof Date && value.when.getTime() > 0
              ? undefined
              : 'when must be after 1970';
          },
        },
      },
    });
    const a = await peer(server.url);
    await a.db.table('notes').bulkPut([
      { id: 'ok', when: WHEN },
      { id: 'early', when: new Date(-5) },
    ]);
    await converged(a);
    expect(seen).toEqual([WHEN, new Date(-5)]);
    expect(await a.db.table('notes').get('early')).toBeUndefined();
    expect((await a.db.table('_syncline_rejections').toArray()).map((r: { id: string }) => r.id)).toEqual([
      'early',
    ]);
  });

  it('refuses values and keys that cannot be synced at write time, storing nothing', async () => {
    server = await startServer();
    const a = await peer(server.url);
    const refused: [string, unknown, string][] = [
      ['notes', { id: 'x', when: new Date(NaN) }, 'invalid_value'],
      ['notes', { id: 'x', list: new Int16Array(2) }, 'invalid_value'],
      ['notes', { id: new Date(0) }, 'invalid_message'],
      ['counters', { n: bytes(1) }, 'invalid_message'],
      ['cells', { sheet: 's', row: new Date(0) }, 'invalid_message'],
    ];
    if (typeof Blob !== 'undefined')
      refused.push(['notes', { id: 'x', file: new Blob(['x']) }, 'invalid_value']);
    for (const [table, row, code] of refused) {
      const err: unknown = await a.db
        .table(table)
        .put(row)
        .catch((e: unknown) => e);
      expect(err, JSON.stringify(row)).toBeInstanceOf(SynclineWriteError);
      expect((err as SynclineWriteError).error.code).toBe(code);
    }
    for (const t of ['notes', 'counters', 'cells', '_syncline_outbox'])
      expect(await a.db.table(t).count()).toBe(0);
  });
});

describe('createSyncClient refuses tables whose keys cannot be synced', () => {
  const attempt = (stores: Record<string, string>, tables: Record<string, { scope: string }>) => {
    const db = new Dexie(`refuse-${process.pid}-${++n}`);
    db.version(1).stores({ ...stores, ...synclineStores });
    try {
      createSyncClient(db, {
        url: 'http://127.0.0.1:9',
        tables,
        scopes: [SCOPE],
        network: new ManualNetwork(false),
      });
    } catch (err) {
      expect(db.isOpen()).toBe(false);
      return err;
    }
    throw new Error('expected createSyncClient to throw');
  };

  it('refuses ++id, naming the table and newId()', () => {
    const err = attempt({ todos: '++id, title' }, { todos: { scope: 's' } });
    expect(err).toBeInstanceOf(SynclineError);
    expect(err).toMatchObject({ code: 'unsupported_key', retryable: false });
    expect((err as Error).message).toMatch(/"todos".*auto-increment.*newId\(\)/);
  });

  it('refuses outbound keys (auto or not) and tables missing from the schema', () => {
    for (const stores of [{ todos: ', title' }, { todos: '++' }]) {
      const err = attempt(stores, { todos: { scope: 's' } });
      expect(err).toMatchObject({ code: 'unsupported_key' });
      expect((err as Error).message).toMatch(/"todos"/);
    }
    expect(attempt({ other: 'id' }, { todos: { scope: 's' } })).toMatchObject({ code: 'unsupported_key' });
  });

  it('accepts string, compound and dotted inbound keys', () => {
    const db = new Dexie(`accept-${process.pid}-${++n}`);
    db.version(1).stores({ a: 'id', b: '[x+y]', c: 'meta.key', ...synclineStores });
    const sync = createSyncClient(db, {
      url: 'http://127.0.0.1:9',
      tables: { a: { scope: 's' }, b: { scope: 's' }, c: { scope: 's' } },
      scopes: ['s'],
      network: new ManualNetwork(false),
    });
    expect(sync).toBeDefined();
  });
});

describe('newId', () => {
  it('makes 26-character ids that sort by time, strictly increasing within a millisecond', () => {
    let now = 1_700_000_000_000;
    let seed = 0;
    const gen = createIdGenerator({ now: () => now, fillRandom: (b) => b.fill(seed++ % 256) });
    const ids = [gen(), gen(), gen()];
    now += 1;
    ids.push(gen());
    now -= 10; // a clock stepping back never breaks the order
    ids.push(gen());
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]!.slice(0, 10)).toBe(ids[1]!.slice(0, 10));
    expect(ids[3]!.slice(0, 10) > ids[0]!.slice(0, 10)).toBe(true);
    const a = newId();
    const b = newId();
    expect(a < b).toBe(true);
  });
});
