// The one-wave apply's cases (`guessed-apply.ts`), each a run against a fresh tracked database and
// what it must observe: shared by the Node test (fake-indexeddb) and the Chromium fixture (real
// IndexedDB), so both engines are held to the same outcomes.
import { asScopeId, asVersion, type Change, type JsonObject } from '@syncline/protocol';
import { LocalStore } from '../src/store/local-store.js';
import { SYNCLINE_TABLES, type OutboxEntry, type RecordMeta, type ScopeRow } from '../src/store/schema.js';
import { trackedDb, wavesOf } from './tracked-db.js';

const scope = asScopeId('board:1');
const { scopes: SCOPES, records: RECORDS, outbox: OUTBOX } = SYNCLINE_TABLES;
const change = (version: number, id: string, value: JsonObject | null): Change =>
  ({ collection: 'cards', id, version, value, clientId: 'other', mid: 1 }) as unknown as Change;
const none = () => 0;
const cards = (t: Tracked) => t.db.table<JsonObject, string>('cards');
const metas = (t: Tracked) => t.db.table<RecordMeta, [string, string]>(RECORDS);
const scopes = (t: Tracked) => t.db.table<ScopeRow, string>(SCOPES);

type Tracked = ReturnType<typeof trackedDb> & { readonly store: LocalStore };

export interface GuessedApplyCase {
  readonly name: string;
  readonly run: (t: Tracked) => Promise<unknown>;
  readonly expected: unknown;
}

/** A fresh tracked database and its store (the caller deletes `db`). */
export function tracked(): Tracked {
  const t = trackedDb();
  return {
    ...t,
    store: new LocalStore(t.db, ['cards'], { remote: new WeakSet(), txn: new WeakMap() }, () => 0),
  };
}

/** Applies versions 1–2 (two waves: the store did not know the row yet) and forgets the log. */
async function warm(t: Tracked): Promise<number[]> {
  await t.store.applyLive(scope, 0, [change(1, 'c1', { title: 'a' }), change(2, 'c2', { title: 'b' })], none);
  const waves = t.lives.map(wavesOf);
  forget(t);
  return waves;
}

function forget(t: Tracked): void {
  t.txs.length = 0;
  t.lives.length = 0;
}

/** Each transaction since `forget`: its waves, and whether it aborted. */
const lives = (t: Tracked) => t.lives.map((l) => ({ waves: wavesOf(l), aborted: l.aborted }));
const ONE_WAVE = { waves: 1, aborted: false };

export const GUESSED_APPLY_CASES: readonly GuessedApplyCase[] = [
  {
    name: 'the next live message applies in one wave, in one transaction committed at once',
    run: async (t) => {
      const warmWaves = await warm(t);
      const out = await t.store.applyLive(
        scope,
        2,
        [change(3, 'c1', { title: 'a2' }), change(4, 'c3', null)],
        none,
      );
      return {
        warmWaves,
        fresh: out === 'stale' || out === 'gap' ? out : out.fresh.map((c) => c.id),
        txs: t.txs.map((x) => x.committed),
        lives: lives(t),
        row: await cards(t).get('c1'),
        meta: await metas(t).get(['cards', 'c1']),
        scope: await scopes(t).get(scope),
        // Stale and gap are one wave too: the reads only, nothing written.
        stale: await t.store.applyLive(scope, 0, [change(1, 'c1', { title: 'old' })], none),
        gap: await t.store.applyLive(scope, 9, [change(10, 'c9', { title: 'x' })], none),
        after: lives(t).slice(1),
        rows: await cards(t).toArray(),
      };
    },
    expected: {
      warmWaves: [2],
      fresh: ['c1', 'c3'],
      txs: [true],
      lives: [ONE_WAVE],
      row: { id: 'c1', title: 'a2' },
      meta: { table: 'cards', id: 'c1', scope, version: 3, includedMid: 0 },
      scope: { scope, cursor: 4, horizon: 0 },
      stale: 'stale',
      gap: 'gap',
      after: [ONE_WAVE, ONE_WAVE],
      rows: [
        { id: 'c1', title: 'a2' },
        { id: 'c2', title: 'b' },
      ],
    },
  },
  {
    name: 'a row moved behind its back aborts the guess, keeps nothing of it, and decides on the stored row',
    run: async (t) => {
      await warm(t);
      // Another tab, leader for a while, applied versions 3–5.
      await scopes(t).put({ scope, cursor: 5, horizon: 0 });
      forget(t);
      // On the guess (cursor 2) this message is fresh; on the stored row it is stale.
      const out = await t.store.applyLive(scope, 2, [change(3, 'c1', { title: 'guessed' })], none);
      const fallback = { out, lives: lives(t), row: await cards(t).get('c1') };
      forget(t);
      await t.store.applyLive(scope, 5, [change(6, 'c1', { title: 'six' })], none);
      return { ...fallback, next: lives(t), after: await cards(t).get('c1') };
    },
    expected: {
      out: 'stale',
      lives: [
        { waves: 1, aborted: true },
        { waves: 1, aborted: false },
      ],
      row: { id: 'c1', title: 'a' },
      next: [ONE_WAVE],
      after: { id: 'c1', title: 'six' },
    },
  },
  {
    name: 'a record with pending mutations aborts the guess and goes to the full path, which replays them',
    run: async (t) => {
      await warm(t);
      const mutation = {
        mid: 4,
        scope,
        collection: 'cards',
        id: 'c1',
        base: 1,
        op: 'patch',
        patch: { set: { n: 1 } },
      };
      const entry = { mid: 4, table: 'cards', key: 'c1', createdAt: 0, mutation } as unknown as OutboxEntry;
      await t.db.table<OutboxEntry, number>(OUTBOX).put(entry);
      await metas(t).put({
        table: 'cards',
        id: 'c1',
        scope,
        version: 1,
        includedMid: 0,
        confirmed: { title: 'a' },
      });
      forget(t);
      await t.store.applyLive(scope, 2, [change(3, 'c1', { title: 'theirs' })], none);
      return {
        aborted: t.lives.map((l) => l.aborted),
        outbox: t.txs.map((x) => x.stores.includes(OUTBOX)),
        row: await cards(t).get('c1'),
        confirmed: (await metas(t).get(['cards', 'c1']))?.confirmed,
        cursor: (await scopes(t).get(scope))?.cursor,
      };
    },
    expected: {
      // Straight from the aborted guess to the full path (the two-wave one would only find the
      // same pending record).
      aborted: [true, false],
      outbox: [false, true],
      row: { id: 'c1', title: 'theirs', n: 1 },
      confirmed: { title: 'theirs' },
      cursor: 3,
    },
  },
  {
    name: 'a stored version as new aborts the guess, and that state is skipped as the full rule does',
    run: async (t) => {
      await warm(t);
      // This client's own push made c2 version 4 (settled, the cursor not there yet).
      await metas(t).put({ table: 'cards', id: 'c2', scope, version: 4, includedMid: 7 });
      await cards(t).put({ id: 'c2', title: 'mine' });
      forget(t);
      await t.store.applyLive(
        scope,
        2,
        [change(3, 'c2', { title: 'older' }), change(4, 'c1', { title: 'a4' })],
        none,
      );
      return {
        firstAborted: t.lives[0]?.aborted,
        rows: await cards(t).toArray(),
        cursor: (await scopes(t).get(scope))?.cursor,
      };
    },
    expected: {
      firstAborted: true,
      rows: [
        { id: 'c1', title: 'a4' },
        { id: 'c2', title: 'mine' },
      ],
      cursor: 4,
    },
  },
  {
    name: 'a meta that differs only in scope or includedMid is put again, exact, in the same transaction',
    run: async (t) => {
      await warm(t);
      // c1's value already holds this client's mutations up to mid 9, and c2 was filed under
      // another scope: the server states carry neither.
      await metas(t).put({ table: 'cards', id: 'c1', scope, version: 1, includedMid: 9 });
      await metas(t).put({
        table: 'cards',
        id: 'c2',
        scope: asScopeId('board:2'),
        version: 2,
        includedMid: 0,
      });
      forget(t);
      await t.store.applyLive(
        scope,
        2,
        [change(3, 'c1', { title: 'a3' }), change(4, 'c2', { title: 'b4' })],
        none,
      );
      return {
        // Reads and guessed writes in one wave; the exact metas once the reads are back.
        lives: lives(t),
        metas: await metas(t).bulkGet([
          ['cards', 'c1'],
          ['cards', 'c2'],
        ]),
        rows: await cards(t).toArray(),
      };
    },
    expected: {
      lives: [{ waves: 2, aborted: false }],
      metas: [
        { table: 'cards', id: 'c1', scope, version: 3, includedMid: 9 },
        { table: 'cards', id: 'c2', scope: 'board:2', version: 4, includedMid: 0 },
      ],
      rows: [
        { id: 'c1', title: 'a3' },
        { id: 'c2', title: 'b4' },
      ],
    },
  },
  {
    name: "the row is learnt from the pull's cursor read and from a settle that moves it",
    run: async (t) => {
      // A scope never synced: the pull reads its (absent) row first, so the first page is one wave.
      const read = await t.store.scopeRow(scope);
      await t.store.applyChanges(scope, [change(1, 'c1', { title: 'a' })], none, { to: 1, complete: true });
      const page = lives(t);
      // Versions 2–3 are this client's own commit: the settle moves the cursor over them.
      await t.store.settle([], [], [{ scope, after: asVersion(1), count: 2 }]);
      forget(t);
      await t.store.applyLive(scope, 3, [change(4, 'c1', { title: 'a4' })], none);
      return { read, page, live: lives(t), row: await scopes(t).get(scope) };
    },
    expected: {
      read: { scope, cursor: 0, horizon: 0 },
      page: [ONE_WAVE],
      live: [ONE_WAVE],
      row: { scope, cursor: 4, horizon: 0, synced: true },
    },
  },
];
