import { afterEach, describe, expect, it } from 'vitest';
import type { Change, HistoryEntry, JsonObject } from '@syncline/protocol';
import type { TestClient } from '@syncline/test-support/server';
import {
  appliedVersion,
  coll,
  Env,
  expectRejected,
  FakeClock,
  headOf,
  historyOf,
  pullPage,
  recordOf,
} from './helpers/scenario.js';

const S = 'team:a';
const cards = coll(S, 'cards');

const env = new Env();
afterEach(() => env.stop());

describe('history', () => {
  it('lists a record’s changes newest first with every field, and pages with before/limit', async () => {
    const clock = new FakeClock(1_000);
    await env.start({ clock });
    const alice = await env.connect('alice');
    const bob = await env.connect('bob');

    clock.set(1_000);
    expect(appliedVersion((await alice.write(cards.put('c1', 0, { title: 'one', n: 0 })))[0])).toBe(1);
    clock.set(2_000);
    expect(appliedVersion((await alice.write(cards.put('other', 0, { x: 1 })))[0])).toBe(2);
    clock.set(3_000);
    expect(appliedVersion((await alice.write(cards.patch('c1', 1, { title: 'two' })))[0])).toBe(3);
    clock.set(4_000);
    expect(appliedVersion((await bob.write(cards.inc('c1', 3, 'n', 2)))[0])).toBe(4);
    clock.set(5_000);
    expect(appliedVersion((await alice.write(cards.delete('c1', 4)))[0])).toBe(5);
    clock.set(6_000);
    expect(appliedVersion((await bob.write(cards.put('c1', 5, { title: 'again' })))[0])).toBe(6);

    const entry = (
      version: number,
      prevVersion: number,
      op: HistoryEntry['op'],
      value: JsonObject | null,
      by: TestClient,
      mid: number,
      serverTime: number,
    ) => {
      const userId = by === alice ? 'alice' : 'bob';
      return {
        version,
        prevVersion,
        op,
        value,
        clientId: by.clientId,
        mid,
        userId,
        serverTime,
        conflict: null,
        restoredFrom: null,
      };
    };
    const all = [
      entry(6, 5, 'put', { title: 'again' }, bob, 2, 6_000),
      entry(5, 4, 'delete', null, alice, 4, 5_000),
      entry(4, 3, 'inc', { title: 'two', n: 2 }, bob, 1, 4_000),
      entry(3, 1, 'patch', { title: 'two', n: 0 }, alice, 3, 3_000),
      entry(1, 0, 'put', { title: 'one', n: 0 }, alice, 1, 1_000),
    ];
    expect(await historyOf(alice, S, 'cards', 'c1')).toEqual(all);

    expect(await historyOf(alice, S, 'cards', 'c1', { limit: 2 })).toEqual(all.slice(0, 2));
    expect(await historyOf(alice, S, 'cards', 'c1', { before: 5, limit: 2 })).toEqual(all.slice(2, 4));
    expect(await historyOf(alice, S, 'cards', 'c1', { before: 3, limit: 2 })).toEqual(all.slice(4));
    expect(await historyOf(alice, S, 'cards', 'c1', { before: 1 })).toEqual([]);
    // `before` need not be a version of this record: versions strictly below it.
    expect(await historyOf(alice, S, 'cards', 'c1', { before: 2 })).toEqual(all.slice(4));
    expect(await historyOf(alice, S, 'cards', 'c1', { before: 100, limit: 1 })).toEqual(all.slice(0, 1));

    expect(await historyOf(alice, S, 'cards', 'nope')).toEqual([]);
    expect((await historyOf(bob, S, 'cards', 'other')).map((e) => e.version)).toEqual([2]);
  });
});

describe('restore', () => {
  it('writes an old value as a new version with restoredFrom, leaving earlier history untouched', async () => {
    const clock = new FakeClock(10_000);
    await env.start({ clock });
    const alice = await env.connect('alice');
    const bob = await env.connect('bob');
    await bob.subscribe(S);
    await alice.write(cards.put('c1', 0, { title: 'one', tags: ['a'] }));
    await alice.write(cards.patch('c1', 1, { title: 'two' }, { unset: ['tags'] }));
    await alice.write(cards.patch('c1', 2, { title: 'three' }));
    const before = await historyOf(alice, S, 'cards', 'c1');
    expect(before.map((e) => e.version)).toEqual([3, 2, 1]);

    clock.set(20_000);
    const [r] = await alice.write(cards.restore('c1', 3, 1));
    expect(appliedVersion(r)).toBe(4);

    const after = await historyOf(alice, S, 'cards', 'c1');
    expect(after[0]).toEqual({
      version: 4,
      prevVersion: 3,
      op: 'restore',
      value: { title: 'one', tags: ['a'] },
      clientId: alice.clientId,
      mid: 4,
      userId: 'alice',
      serverTime: 20_000,
      conflict: null,
      restoredFrom: 1,
    });
    expect(after.slice(1)).toEqual(before);
    expect(await recordOf(alice, S, 'cards', 'c1')).toMatchObject({
      version: 4,
      value: { title: 'one', tags: ['a'] },
    });
    const live = await bob.waitForChange((m) => m.changes.some((c) => c.version === 4));
    expect(live.changes[0]?.value).toEqual({ title: 'one', tags: ['a'] });
  });

  it('restoring a deleted version deletes the record; restoring a live one brings it back', async () => {
    await env.start();
    const alice = await env.connect('alice');
    await alice.write(cards.put('c1', 0, { title: 'one' }));
    await alice.write(cards.delete('c1', 1));
    await alice.write(cards.put('c1', 2, { title: 'back' }));

    expect(appliedVersion((await alice.write(cards.restore('c1', 3, 2)))[0])).toBe(4);
    expect(await recordOf(alice, S, 'cards', 'c1')).toMatchObject({ version: 4, value: null });
    expect((await historyOf(alice, S, 'cards', 'c1'))[0]).toMatchObject({
      version: 4,
      prevVersion: 3,
      op: 'restore',
      value: null,
      restoredFrom: 2,
    });

    expect(appliedVersion((await alice.write(cards.restore('c1', 4, 1)))[0])).toBe(5);
    expect(await recordOf(alice, S, 'cards', 'c1')).toMatchObject({ version: 5, value: { title: 'one' } });
    expect((await historyOf(alice, S, 'cards', 'c1')).map((e) => e.version)).toEqual([5, 4, 3, 2, 1]);
  });

  it('restoring a version not in the record’s history is rejected with version_not_found', async () => {
    await env.start();
    const alice = await env.connect('alice');
    await alice.write(cards.put('c1', 0, { title: 'one' }));
    await alice.write(cards.put('c2', 0, { title: 'two' }));

    const results = await alice.write(
      cards.restore('c1', 1, 99),
      // Version 2 exists in the scope, but belongs to c2.
      cards.restore('c1', 1, 2),
      cards.restore('never', 0, 1),
    );
    for (const r of results) expectRejected(r, 'version_not_found');
    expect(await headOf(alice, S)).toBe(2);
    expect(await historyOf(alice, S, 'cards', 'c1')).toHaveLength(1);
    expect(await recordOf(alice, S, 'cards', 'never')).toBeUndefined();
    // The rejected mids were consumed; the next write applies at the next version.
    expect(appliedVersion((await alice.write(cards.patch('c1', 1, { title: 'uno' })))[0])).toBe(3);
  });
});

describe('retention', () => {
  it('keeps the newest keepVersions entries and drops old ones by age, but always the current version', async () => {
    const clock = new FakeClock(1_000);
    await env.start({ clock, retention: { keepVersions: 2, maxAgeMs: 60_000 } });
    const alice = await env.connect('alice');
    for (let i = 1; i <= 5; i++) {
      clock.set(i * 1_000);
      await alice.write(i === 1 ? cards.put('c1', 0, { n: 1 }) : cards.patch('c1', i - 1, { n: i }));
    }
    clock.set(6_000);
    await alice.write(cards.put('c2', 0, { only: true }));

    clock.set(10_000);
    expect(await env.running.server.prune()).toEqual({
      historyRemoved: 3,
      tombstonesRemoved: 0,
      clientsRemoved: 0,
    });
    expect((await historyOf(alice, S, 'cards', 'c1')).map((e) => e.version)).toEqual([5, 4]);
    expect((await historyOf(alice, S, 'cards', 'c2')).map((e) => e.version)).toEqual([6]);

    // Past maxAgeMs, every old entry goes except the current version's.
    clock.set(5_000 + 60_001);
    expect(await env.running.server.prune()).toEqual({
      historyRemoved: 1,
      tombstonesRemoved: 0,
      clientsRemoved: 0,
    });
    expect(await historyOf(alice, S, 'cards', 'c1')).toEqual([
      expect.objectContaining({ version: 5, value: { n: 5 }, serverTime: 5_000 }),
    ]);
    expect((await historyOf(alice, S, 'cards', 'c2')).map((e) => e.version)).toEqual([6]);
    expect(await recordOf(alice, S, 'cards', 'c1')).toMatchObject({ version: 5, value: { n: 5 } });
    expect(await recordOf(alice, S, 'cards', 'c2')).toMatchObject({ version: 6, value: { only: true } });

    // A pruned version can no longer be restored.
    expectRejected((await alice.write(cards.restore('c1', 5, 3)))[0], 'version_not_found');
    expect(await headOf(alice, S)).toBe(6);
  });

  it('purges tombstones after maxAgeMs; a cursor below one resets to a snapshot without it', async () => {
    const clock = new FakeClock(1_000);
    await env.start({ clock, retention: { maxAgeMs: 60_000 } });
    const alice = await env.connect('alice');
    await alice.write(cards.put('keep', 0, { k: 1 }), cards.put('gone', 0, { g: 1 }));
    clock.set(2_000);
    await alice.write(cards.delete('gone', 2), cards.put('x', 0, { x: 1 }));

    // Not old enough yet: the tombstone stays and is pulled as such.
    clock.set(50_000);
    expect(await env.running.server.prune()).toEqual({
      historyRemoved: 0,
      tombstonesRemoved: 0,
      clientsRemoved: 0,
    });
    const early = await pullPage(alice, S, 2);
    expect(early.reset).toBe(false);
    expect(early.changes.map((c) => [c.id, c.version, c.value])).toEqual([
      ['gone', 3, null],
      ['x', 4, { x: 1 }],
    ]);

    clock.set(70_000);
    await alice.write(cards.put('late', 0, { l: 1 }));
    await alice.write(cards.delete('late', 5));
    expect(await env.running.server.prune()).toEqual({
      historyRemoved: 2,
      tombstonesRemoved: 1,
      clientsRemoved: 0,
    });
    expect(await historyOf(alice, S, 'cards', 'gone')).toEqual([]);
    expect(await historyOf(alice, S, 'cards', 'keep')).toHaveLength(1);

    const ids = (changes: readonly Change[]) => changes.map((c) => [c.id, c.version, c.value]);
    const snapshot = [
      ['keep', 1, { k: 1 }],
      ['x', 4, { x: 1 }],
      ['late', 6, null],
    ];
    // Cursors that predate the purged tombstone (version 3) could still hold `gone`: reset.
    for (const cursor of [1, 2]) {
      const page = await pullPage(alice, S, cursor);
      expect(page.reset, `cursor ${cursor}`).toBe(true);
      expect(ids(page.changes)).toEqual(snapshot);
      expect(page).toMatchObject({ upTo: 6, head: 6, hasMore: false });
    }
    // A cursor at or after the tombstone already saw the delete: no reset.
    const at = await pullPage(alice, S, 3);
    expect(at.reset).toBe(false);
    expect(ids(at.changes)).toEqual(snapshot.slice(1));
    const later = await pullPage(alice, S, 4);
    expect(later.reset).toBe(false);
    expect(ids(later.changes)).toEqual(snapshot.slice(2));
    const fresh = await pullPage(alice, S, 0);
    expect(fresh.reset).toBe(false);
    expect(ids(fresh.changes)).toEqual(snapshot);
  });

  it('a reset snapshot larger than one page can be paged to the end', async () => {
    const clock = new FakeClock(1_000);
    await env.start({ clock, retention: { maxAgeMs: 60_000 } });
    const alice = await env.connect('alice');
    await alice.write(...Array.from({ length: 30 }, (_, i) => cards.put(`r${i}`, 0, { i })));
    await alice.write(cards.put('gone', 0, { g: 1 }));
    await alice.write(cards.delete('gone', 31));
    await alice.write(...Array.from({ length: 10 }, (_, i) => cards.put(`s${i}`, 0, { i })));
    clock.set(100_000);
    expect((await env.running.server.prune()).tombstonesRemoved).toBe(1);

    // A client last synced at version 5 follows the protocol: on reset, drop and start over.
    const result = await followPull(alice, S, 5, 10);
    expect(result.resets).toBe(1);
    expect(result.finished).toBe(true);
    expect(result.state.size).toBe(40);
    expect(result.state.has('gone')).toBe(false);
  });
});

/** Pulls like a client: applies pages in order, starts over on reset; gives up after 20 pages. */
async function followPull(client: TestClient, scope: string, cursor: number, limit: number) {
  const state = new Map<string, Change>();
  let resets = 0;
  // A client that synced before the purge knows an older horizon (0 here).
  let horizon = 0;
  for (let page = 0; page < 20; page++) {
    const res = await pullPage(client, scope, cursor, limit, horizon);
    if (res.reset) {
      resets++;
      state.clear();
      horizon = res.horizon;
    }
    for (const c of res.changes) state.set(c.id, c);
    cursor = res.upTo;
    if (!res.hasMore) return { state, resets, finished: true };
  }
  return { state, resets, finished: false };
}
