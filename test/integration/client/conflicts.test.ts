import { describe, expect, it } from 'vitest';
import type { AppObject } from '@syncline/protocol';
import type { CollectionConfig, ResolveContext } from '@syncline/server';
import { type Card, type Device, until } from '@syncline/test-support/devices';
import { card, convergeAll, next, offline, reconnect, scenario } from '../helpers/scenario.js';

const s = scenario();

const ORIGINAL: Card = { id: 'c1', board: '1', title: 'original', status: 'todo', notes: 'n0', likes: 0 };

/**
 * A server whose `cards` collection uses `config`, two devices that both hold ORIGINAL, then
 * both go offline.
 */
async function twoOfflineDevices(config: CollectionConfig = {}): Promise<{ a: Device; b: Device }> {
  await s.server({ collections: { cards: config } });
  const a = await s.device();
  const b = await s.device();
  await a.db.cards.put(ORIGINAL);
  await convergeAll(a, b);
  expect(await card(b, 'c1')).toEqual(ORIGINAL);
  offline(a, b);
  return { a, b };
}

/** A's offline change reaches the server first, then B's. */
async function aThenB(a: Device, b: Device): Promise<void> {
  await reconnect(a);
  await reconnect(b);
  await convergeAll(a, b);
}

const titleOf = (v: AppObject): string => (typeof v.title === 'string' ? v.title : '?');

async function historyOf(d: Device) {
  return d.sync.history('cards', 'c1');
}

describe('merge strategy (default)', () => {
  it('keeps fields changed on only one side from both devices', async () => {
    const { a, b } = await twoOfflineDevices();
    await a.db.cards.update('c1', { title: 'title from a' });
    await b.db.cards.update('c1', { status: 'done', notes: 'notes from b' });
    // Each device sees only its own edit while offline.
    expect(await card(a, 'c1')).toEqual({ ...ORIGINAL, title: 'title from a' });
    expect(await card(b, 'c1')).toEqual({ ...ORIGINAL, status: 'done', notes: 'notes from b' });

    await aThenB(a, b);
    const expected = { ...ORIGINAL, title: 'title from a', status: 'done', notes: 'notes from b' };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);
    // Nothing was overwritten: the merge flags no field.
    const [latest] = await historyOf(a);
    expect(latest).toMatchObject({
      clientId: b.sync.clientId,
      conflict: { strategy: 'merge', overwritten: [] },
    });
  });

  it('lets the later arrival win a field changed on both sides, and keeps the loser in history', async () => {
    const { a, b } = await twoOfflineDevices();
    await a.db.cards.update('c1', { title: 'title from a', status: 'doing' });
    await b.db.cards.update('c1', { title: 'title from b' });

    await aThenB(a, b);
    const expected = { ...ORIGINAL, title: 'title from b', status: 'doing' };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);

    const [winner, loser] = await historyOf(b);
    expect(winner).toMatchObject({
      clientId: b.sync.clientId,
      value: expected,
      conflict: { strategy: 'merge', overwritten: ['title'] },
    });
    expect(loser).toMatchObject({
      clientId: a.sync.clientId,
      value: { title: 'title from a' },
      conflict: null,
    });
    expect(winner!.prevVersion).toBe(loser!.version);
  });

  it('lets the later arrival win when the other device arrives first instead', async () => {
    const { a, b } = await twoOfflineDevices();
    await a.db.cards.update('c1', { title: 'title from a' });
    await b.db.cards.update('c1', { title: 'title from b' });

    await reconnect(b);
    await reconnect(a);
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toEqual({ ...ORIGINAL, title: 'title from a' });
    expect(await card(b, 'c1')).toEqual({ ...ORIGINAL, title: 'title from a' });
  });

  it('three-way merges a full put against a concurrent patch', async () => {
    const { a, b } = await twoOfflineDevices();
    await a.db.cards.update('c1', { status: 'done' });
    // A full replacement that only really changes the title.
    await b.db.cards.put({ ...ORIGINAL, title: 'put from b' });

    await aThenB(a, b);
    const expected = { ...ORIGINAL, title: 'put from b', status: 'done' };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);
  });
});

describe('lww strategy', () => {
  it('replaces the whole record with the later arrival; the loser stays in history', async () => {
    const { a, b } = await twoOfflineDevices({ strategy: 'lww' });
    await a.db.cards.update('c1', { status: 'doing', notes: 'notes from a' });
    await b.db.cards.put({ ...ORIGINAL, title: 'put from b' });

    await aThenB(a, b);
    // Under merge A's status and notes would survive; under lww B's put replaces everything.
    const expected = { ...ORIGINAL, title: 'put from b' };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);

    const [winner, loser] = await historyOf(a);
    expect(winner).toMatchObject({
      clientId: b.sync.clientId,
      value: expected,
      conflict: { strategy: 'lww' },
    });
    // Overwritten: what A had changed and B's put replaced (B's own title is no overwrite).
    expect(winner!.conflict!.overwritten).toEqual(['notes', 'status']);
    expect(loser).toMatchObject({
      clientId: a.sync.clientId,
      value: { ...ORIGINAL, status: 'doing', notes: 'notes from a' },
    });
  });

  it('keeps concurrent patches to different fields: a patch replaces only the fields it names', async () => {
    const { a, b } = await twoOfflineDevices({ strategy: 'lww' });
    await a.db.cards.update('c1', { status: 'doing' });
    await b.db.cards.update('c1', { title: 'title from b' });

    await aThenB(a, b);
    const expected = { ...ORIGINAL, status: 'doing', title: 'title from b' };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);
    const [winner] = await historyOf(a);
    expect(winner).toMatchObject({
      clientId: b.sync.clientId,
      conflict: { strategy: 'lww', overwritten: [] },
    });
  });

  it('applies a later patch on top of the current record', async () => {
    const { a, b } = await twoOfflineDevices({ strategy: 'lww' });
    await a.db.cards.update('c1', { title: 'title from a' });
    await b.db.cards.update('c1', { title: 'title from b' });

    await aThenB(a, b);
    expect(await card(a, 'c1')).toEqual({ ...ORIGINAL, title: 'title from b' });
    expect(await card(b, 'c1')).toEqual({ ...ORIGINAL, title: 'title from b' });
  });
});

describe('manual strategy', () => {
  /** A and B both retitle c1 offline; A arrives first, so B gets the conflict. */
  async function conflictOnB() {
    const { a, b } = await twoOfflineDevices({ strategy: 'manual' });
    await a.db.cards.update('c1', { title: 'title from a' });
    await b.db.cards.update('c1', { title: 'title from b' });
    await reconnect(a);
    b.network.set(true);
    const [conflict] = await next(b.sync.conflicts$, (list) => list.length > 0);
    const status = await until(b.sync, (st) => st.conflicts === 1 && st.phase === 'live' && st.pending === 0);
    expect(status.conflicts).toBe(1);
    return { a, b, conflict: conflict! };
  }

  it('stores a conflict on the second device with mine and theirs; the server value stands', async () => {
    const { a, b, conflict } = await conflictOnB();
    expect(conflict).toMatchObject({
      table: 'cards',
      id: 'c1',
      scope: 'board:1',
      mine: { ...ORIGINAL, title: 'title from b' },
      theirs: {
        collection: 'cards',
        id: 'c1',
        value: { ...ORIGINAL, title: 'title from a' },
        clientId: a.sync.clientId,
      },
      mutation: { op: 'patch', patch: { set: { title: 'title from b' } } },
    });
    // The server did not apply B's change: A's title stands everywhere until B resolves.
    await convergeAll(a, b);
    expect(await card(b, 'c1')).toEqual({ ...ORIGINAL, title: 'title from a' });
    expect(await card(a, 'c1')).toEqual({ ...ORIGINAL, title: 'title from a' });
    const latest = (await historyOf(a))[0]!;
    expect(latest.version).toBe(conflict.theirs.version);
    // The conflict stays until resolved; the first device has none.
    expect((await until(b.sync, (st) => st.phase === 'live')).conflicts).toBe(1);
    expect((await until(a.sync, (st) => st.phase === 'live')).conflicts).toBe(0);
  });

  it("stores as base the value B's change was made on, not the server's current value", async () => {
    const { conflict } = await conflictOnB();
    expect(conflict.base).toEqual(ORIGINAL);
    expect(conflict.base).not.toEqual(conflict.theirs.value);
  });

  it("resolves with 'mine': B's value syncs as a new change and both devices converge to it", async () => {
    const { a, b, conflict } = await conflictOnB();
    await b.sync.resolveConflict(conflict.mid, 'mine');
    expect(await next(b.sync.conflicts$, (list) => list.length === 0)).toEqual([]);

    await convergeAll(a, b);
    const expected = { ...ORIGINAL, title: 'title from b' };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);
    expect((await until(b.sync, (st) => st.phase === 'live')).conflicts).toBe(0);
    const [resolution] = await historyOf(a);
    expect(resolution).toMatchObject({
      clientId: b.sync.clientId,
      prevVersion: conflict.theirs.version,
      value: expected,
      conflict: null,
    });
  });

  it("resolves with 'theirs': B drops its change and both devices converge to A's value", async () => {
    const { a, b, conflict } = await conflictOnB();
    await b.sync.resolveConflict(conflict.mid, 'theirs');
    expect(await next(b.sync.conflicts$, (list) => list.length === 0)).toEqual([]);

    await convergeAll(a, b);
    const expected = { ...ORIGINAL, title: 'title from a' };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);
    expect((await until(b.sync, (st) => st.phase === 'live')).conflicts).toBe(0);
    expect((await historyOf(b))[0]).toMatchObject({ version: conflict.theirs.version, value: expected });
  });

  it('resolves with a custom value that syncs as a new change on the current version', async () => {
    const { a, b, conflict } = await conflictOnB();
    const merged = { ...ORIGINAL, title: 'title from a and b', notes: 'settled by hand' };
    await b.sync.resolveConflict(conflict.mid, { value: merged });
    expect(await next(b.sync.conflicts$, (list) => list.length === 0)).toEqual([]);

    await convergeAll(a, b);
    expect(await card(a, 'c1')).toEqual(merged);
    expect(await card(b, 'c1')).toEqual(merged);
    expect((await until(b.sync, (st) => st.phase === 'live')).conflicts).toBe(0);
    const [resolution] = await historyOf(a);
    expect(resolution).toMatchObject({
      clientId: b.sync.clientId,
      prevVersion: conflict.theirs.version,
      value: merged,
    });
  });

  it('resolves with a null value: the record is deleted on every device', async () => {
    const { a, b, conflict } = await conflictOnB();
    await b.sync.resolveConflict(conflict.mid, { value: null });
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toBeUndefined();
    expect(await card(b, 'c1')).toBeUndefined();
    expect((await historyOf(a))[0]).toMatchObject({ op: 'delete', value: null, clientId: b.sync.clientId });
  });
});

describe('manual strategy: update vs delete', () => {
  it("is a conflict, not delete-wins; resolving with 'mine' brings the edited record back", async () => {
    const { a, b } = await twoOfflineDevices({ strategy: 'manual' });
    await a.db.cards.delete('c1');
    await b.db.cards.update('c1', { title: 'title from b' });
    await reconnect(a);
    b.network.set(true);
    const [conflict] = await next(b.sync.conflicts$, (list) => list.length > 0);
    expect(conflict).toMatchObject({ id: 'c1', theirs: { value: null } });
    // What B wanted: its edit, not the tombstone it could not apply to.
    expect(conflict!.mine).toEqual({ ...ORIGINAL, title: 'title from b' });
    await convergeAll(a, b);
    expect(await card(b, 'c1')).toBeUndefined();

    await b.sync.resolveConflict(conflict!.mid, 'mine');
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toEqual({ ...ORIGINAL, title: 'title from b' });
    expect(await card(b, 'c1')).toEqual({ ...ORIGINAL, title: 'title from b' });
  });

  it("resolving with 'theirs' keeps the record deleted everywhere", async () => {
    const { a, b } = await twoOfflineDevices({ strategy: 'manual' });
    await a.db.cards.delete('c1');
    await b.db.cards.update('c1', { title: 'title from b' });
    await reconnect(a);
    b.network.set(true);
    const [conflict] = await next(b.sync.conflicts$, (list) => list.length > 0);
    await b.sync.resolveConflict(conflict!.mid, 'theirs');
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toBeUndefined();
    expect(await card(b, 'c1')).toBeUndefined();
    expect((await until(b.sync, (st) => st.phase === 'live')).conflicts).toBe(0);
  });
});

describe('custom resolver', () => {
  it('decides concurrent changes with (base, current, incoming) and both devices converge to its value', async () => {
    const seen: ResolveContext[] = [];
    const { a, b } = await twoOfflineDevices({
      strategy: (ctx) => {
        seen.push(ctx);
        const cur = ctx.current!;
        const inc = ctx.incoming!;
        return { action: 'write', value: { ...cur, ...inc, title: `${titleOf(cur)} | ${titleOf(inc)}` } };
      },
    });
    await a.db.cards.update('c1', { title: 'A' });
    await b.db.cards.update('c1', { title: 'B', status: 'done' });

    await aThenB(a, b);
    const expected = { ...ORIGINAL, title: 'A | B', status: 'done' };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);
    // Only B's change was concurrent.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      collection: 'cards',
      id: 'c1',
      base: ORIGINAL,
      current: { ...ORIGINAL, title: 'A' },
      incoming: { ...ORIGINAL, title: 'B', status: 'done' },
    });
    expect((await historyOf(a))[0]).toMatchObject({ conflict: { strategy: 'custom' } });
  });

  it('a resolver that rejects rolls the change back and reports it', async () => {
    const { a, b } = await twoOfflineDevices({
      strategy: () => ({ action: 'reject', message: 'no concurrent edits here' }),
    });
    await a.db.cards.update('c1', { title: 'A' });
    await b.db.cards.update('c1', { title: 'B' });

    await aThenB(a, b);
    expect(await card(a, 'c1')).toEqual({ ...ORIGINAL, title: 'A' });
    expect(await card(b, 'c1')).toEqual({ ...ORIGINAL, title: 'A' });
    const [rejection] = await next(b.sync.rejections$, (list) => list.length > 0);
    expect(rejection).toMatchObject({
      id: 'c1',
      error: { code: 'validation_failed', message: 'no concurrent edits here' },
    });
  });
});

describe('inc', () => {
  it('two offline increments on two devices give +2 everywhere', async () => {
    const { a, b } = await twoOfflineDevices({ strategy: 'manual' });
    await a.sync.inc('cards', 'c1', 'likes', 1);
    await b.sync.inc('cards', 'c1', 'likes', 1);
    expect((await card(a, 'c1'))?.likes).toBe(1);
    expect((await card(b, 'c1'))?.likes).toBe(1);

    await aThenB(a, b);
    expect((await card(a, 'c1'))?.likes).toBe(2);
    expect((await card(b, 'c1'))?.likes).toBe(2);
    // inc never conflicts, even under the manual strategy.
    expect((await until(b.sync, (st) => st.phase === 'live')).conflicts).toBe(0);
  });

  it('merges several increments of different sizes, including negative ones', async () => {
    const { a, b } = await twoOfflineDevices();
    await a.sync.inc('cards', 'c1', 'likes', 5);
    await a.sync.inc('cards', 'c1', 'likes', -1);
    await b.sync.inc('cards', 'c1', 'likes', 10);
    await b.db.cards.update('c1', { title: 'liked a lot' });

    await aThenB(a, b);
    const expected = { ...ORIGINAL, title: 'liked a lot', likes: 14 };
    expect(await card(a, 'c1')).toEqual(expected);
    expect(await card(b, 'c1')).toEqual(expected);
  });
});

describe('update vs delete', () => {
  it('delete wins when the delete arrives first', async () => {
    const { a, b } = await twoOfflineDevices();
    await a.db.cards.delete('c1');
    await b.db.cards.update('c1', { title: 'edited on b' });
    expect(await card(b, 'c1')).toMatchObject({ title: 'edited on b' });

    await aThenB(a, b);
    expect(await card(a, 'c1')).toBeUndefined();
    expect(await card(b, 'c1')).toBeUndefined();
    expect((await b.sync.serverHash('board:1')).count).toBe(0);
    expect((await historyOf(a))[0]).toMatchObject({ op: 'delete', value: null, clientId: a.sync.clientId });
  });

  it('delete wins when the edit arrives first', async () => {
    const { a, b } = await twoOfflineDevices();
    await a.db.cards.delete('c1');
    await b.db.cards.update('c1', { title: 'edited on b' });

    await reconnect(b);
    await reconnect(a);
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toBeUndefined();
    expect(await card(b, 'c1')).toBeUndefined();
    expect((await a.sync.serverHash('board:1')).count).toBe(0);
  });

  it('delete wins over a concurrent increment', async () => {
    const { a, b } = await twoOfflineDevices();
    await a.db.cards.delete('c1');
    await b.sync.inc('cards', 'c1', 'likes', 1);

    await aThenB(a, b);
    expect(await card(a, 'c1')).toBeUndefined();
    expect(await card(b, 'c1')).toBeUndefined();
  });
});
