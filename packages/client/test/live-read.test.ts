// store-test-db first: it installs fake-indexeddb before Dexie loads.
import { storeDb } from './store-test-db.js';
import { Dexie } from 'dexie';
import { firstValueFrom, filter, take } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { liveRead } from '../src/store/live-read.js';
import { liveCounts, liveOutboxMids, readCounts } from '../src/store/live-queries.js';
import type { LocalCounts } from '../src/store/client-queries.js';
import { SYNCLINE_TABLES, synclineStores } from '../src/store/schema.js';

const OUTBOX = SYNCLINE_TABLES.outbox;
const entry = (mid: number) => ({ mid, table: 'cards', key: `k${mid}`, op: 'put', createdAt: 1000 + mid });
const dbs: { close(): void }[] = [];
afterEach(() => dbs.splice(0).forEach((d) => d.close()));

function db() {
  const { db } = storeDb();
  dbs.push(db);
  return db;
}

describe('liveRead', () => {
  it('reads at once, then after each committed change to its stores only', async () => {
    const d = db();
    await d.open(); // creating the database reports every store as changed: not part of this test
    let runs = 0;
    const seen: number[] = [];
    const sub = liveRead(d, [OUTBOX], async () => {
      runs++;
      return d.table(OUTBOX).count();
    }).subscribe((n) => seen.push(n));
    await expect.poll(() => seen).toEqual([0]);
    await d.table('cards').put({ id: 'x' }); // another store: no run
    await d.table(OUTBOX).put(entry(1));
    await expect.poll(() => seen).toEqual([0, 1]);
    expect(runs).toBe(2);
    sub.unsubscribe();
    await d.table(OUTBOX).put(entry(2));
    expect(runs).toBe(2);
  });

  it('never overlaps its runs: changes during a run cause one more run', async () => {
    const d = db();
    let active = 0;
    let most = 0;
    let runs = 0;
    const sub = liveRead(d, [OUTBOX], async () => {
      runs++;
      most = Math.max(most, ++active);
      const n = await d.table(OUTBOX).count();
      active--;
      return n;
    }).subscribe();
    await Promise.all([1, 2, 3, 4, 5].map((m) => d.table(OUTBOX).put(entry(m))));
    await expect.poll(() => d.table(OUTBOX).count()).toBe(5);
    await expect.poll(() => active).toBe(0);
    expect(most).toBe(1);
    expect(runs).toBeLessThanOrEqual(6);
    sub.unsubscribe();
  });

  it('completes once the database is closed, when a change of another instance reaches it', async () => {
    const d = db();
    await d.open();
    const values: LocalCounts[] = [];
    let completed = false;
    liveCounts(d).subscribe({ next: (v) => values.push(v), complete: () => (completed = true) });
    await expect.poll(() => values.length).toBe(1);
    d.close();
    // The same database opened again (a crash-like restart): its write reaches the old view.
    const again = new Dexie(d.name);
    again.version(1).stores({ cards: 'id', ...synclineStores });
    dbs.push(again);
    await again.table(OUTBOX).put(entry(1));
    await expect.poll(() => completed).toBe(true);
    expect(values).toHaveLength(1);
  });
});

describe('live queries', () => {
  it('counts the outbox, its oldest entry, conflicts, rejections and scope cursors in one read', async () => {
    const d = db();
    await d.table(OUTBOX).bulkPut([entry(3), entry(2)]);
    await d.table(SYNCLINE_TABLES.conflicts).put({ mid: 2, table: 'cards', id: 'k2' });
    await d.table(SYNCLINE_TABLES.scopes).put({ scope: 'board:1', cursor: 7, synced: true });
    expect(await readCounts(d)).toEqual({
      pending: 2,
      oldest: 1002,
      conflicts: 1,
      rejections: 0,
      scopes: { 'board:1': { cursor: 7, synced: true } },
    });
  });

  it('an awaited mid range empties as its entries are answered', async () => {
    const d = db();
    await d.table(OUTBOX).bulkPut([entry(1), entry(2), entry(3)]);
    const left = liveOutboxMids(d, { upTo: 2 }).pipe(
      filter((mids) => mids.length === 0),
      take(1),
    );
    const emptied = firstValueFrom(left);
    expect(await firstValueFrom(liveOutboxMids(d, { upTo: 2 }))).toEqual([1, 2]);
    await d.table(OUTBOX).bulkDelete([1, 2]);
    await expect(emptied).resolves.toEqual([]);
    expect(await firstValueFrom(liveOutboxMids(d, { only: 3 }))).toEqual([3]);
  });
});
