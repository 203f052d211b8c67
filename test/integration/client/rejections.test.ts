import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import type { Validator } from '@syncline/server';
// helpers.js installs fake-indexeddb: it must load before Dexie (via src) does.
import { converged, until, type Card, type Device } from '@syncline/test-support/devices';
import { SynclineWriteError } from '@syncline/client';
import { card, convergeAll, next, offline, scenario } from '../helpers/scenario.js';

const s = scenario();

const MESSAGE = 'a title must not be "bad"';
const noBadTitles: Validator = (value) => (value.title === 'bad' ? MESSAGE : undefined);

const C1: Card = { id: 'c1', board: '1', title: 'good', status: 'todo' };

/** A server refusing bad titles, and two devices that both hold C1. */
async function setup(coalesce = true): Promise<{ a: Device; b: Device }> {
  await s.server({ collections: { cards: { validate: noBadTitles } } });
  const a = await s.device({ client: { coalesce } });
  const b = await s.device();
  await a.db.cards.put(C1);
  await convergeAll(a, b);
  return { a, b };
}

async function outboxOf(d: Device) {
  return firstValueFrom(d.sync.outbox$);
}

describe('a server validate hook refuses a value', () => {
  it('rolls an update back to the server value and reports it until dismissed', async () => {
    const { a, b } = await setup();
    await a.db.cards.update('c1', { title: 'bad', status: 'doing' });
    const [rejection] = await next(a.sync.rejections$, (list) => list.length > 0);
    expect(rejection).toMatchObject({
      table: 'cards',
      id: 'c1',
      mutation: { op: 'patch', patch: { set: { title: 'bad', status: 'doing' } } },
      error: { code: 'validation_failed', message: MESSAGE, retryable: false },
    });
    await convergeAll(a, b);
    // The whole change is rolled back, not just the refused field.
    expect(await card(a, 'c1')).toEqual(C1);
    expect(await card(b, 'c1')).toEqual(C1);
    expect((await until(a.sync, (st) => st.rejections === 1)).pending).toBe(0);
    expect((await a.sync.history('cards', 'c1')).map((e) => e.op)).toEqual(['put']);

    await a.sync.dismissRejection(rejection!.mid);
    expect(await next(a.sync.rejections$, (list) => list.length === 0)).toEqual([]);
    expect((await until(a.sync, (st) => st.rejections === 0)).rejections).toBe(0);
    // The queue moved on: the next write syncs.
    await a.db.cards.update('c1', { title: 'better' });
    await convergeAll(a, b);
    expect(await card(b, 'c1')).toEqual({ ...C1, title: 'better' });
  });

  it('removes a refused create from the local table', async () => {
    const { a, b } = await setup();
    await a.db.cards.put({ id: 'c2', board: '1', title: 'bad' });
    const [rejection] = await next(a.sync.rejections$, (list) => list.length > 0);
    expect(rejection).toMatchObject({
      id: 'c2',
      mutation: { op: 'put', base: 0 },
      error: { code: 'validation_failed', message: MESSAGE },
    });
    await convergeAll(a, b);
    expect(await card(a, 'c2')).toBeUndefined();
    expect(await card(b, 'c2')).toBeUndefined();
    expect((await a.sync.serverHash('board:1')).count).toBe(1);
    expect((await until(a.sync, (st) => st.rejections === 1)).rejections).toBe(1);
  });

  it('lets the same id be created again after a refused create', async () => {
    const { a, b } = await setup();
    await a.db.cards.put({ id: 'c2', board: '1', title: 'bad' });
    await next(a.sync.rejections$, (list) => list.length > 0);
    await convergeAll(a, b);
    await a.db.cards.put({ id: 'c2', board: '1', title: 'fine' });
    await convergeAll(a, b);
    expect(await card(b, 'c2')).toEqual({ id: 'c2', board: '1', title: 'fine' });
  });

  it("rolls back to the server's latest value when another device changed the record meanwhile", async () => {
    const { a, b } = await setup();
    offline(a);
    await a.db.cards.update('c1', { title: 'bad' });
    await b.db.cards.update('c1', { status: 'done' });
    await converged(b);
    a.network.set(true);
    await next(a.sync.rejections$, (list) => list.length > 0);
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toEqual({ ...C1, status: 'done' });
    expect(await card(b, 'c1')).toEqual({ ...C1, status: 'done' });
  });

  // Coalesced, both edits travel as one mutation: the server refuses the merge with
  // `split_required`, applies nothing, and the client sends them one by one.
  it.each([true, false])(
    'rolls back only the refused change and keeps later pending changes on top (coalesce: %s)',
    async (coalesce) => {
      const { a, b } = await setup(coalesce);
      offline(a);
      await a.db.cards.update('c1', { title: 'bad' });
      await a.db.cards.update('c1', { status: 'done' });
      expect(await card(a, 'c1')).toEqual({ ...C1, title: 'bad', status: 'done' });
      a.network.set(true);
      await convergeAll(a, b);
      expect(await card(a, 'c1')).toEqual({ ...C1, status: 'done' });
      expect(await card(b, 'c1')).toEqual({ ...C1, status: 'done' });
      const rejections = await next(a.sync.rejections$, (list) => list.length > 0);
      expect(rejections.map((r) => [r.mid, r.error.code])).toEqual([[2, 'validation_failed']]);
    },
  );
});

describe('a transaction with a refused member', () => {
  it('rolls back every write of the txn and reports each, while a later unrelated write syncs', async () => {
    const { a, b } = await setup();
    offline(a);
    await a.sync.transaction(['cards'], async () => {
      await a.db.cards.put({ id: 'c2', board: '1', title: 'made in the txn' });
      await a.db.cards.update('c1', { title: 'bad' });
    });
    await a.db.cards.put({ id: 'c3', board: '1', title: 'after the txn' });
    // Optimistically visible while offline.
    expect(await card(a, 'c2')).toMatchObject({ title: 'made in the txn' });
    expect(await card(a, 'c1')).toMatchObject({ title: 'bad' });
    const queued = await outboxOf(a);
    expect(queued).toHaveLength(3);
    const [m2, m1, m3] = queued.map((e) => e.mutation);
    expect(m2!.txn).toBeDefined();
    expect(m1!.txn).toBe(m2!.txn);
    expect(m3!.txn).toBeUndefined();

    a.network.set(true);
    const rejections = await next(a.sync.rejections$, (list) => list.length === 2);
    expect(rejections.map((r) => [r.id, r.error.code])).toEqual([
      ['c2', 'txn_aborted'],
      ['c1', 'validation_failed'],
    ]);
    expect(rejections[1]!.error.message).toBe(MESSAGE);
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toEqual(C1);
    expect(await card(a, 'c2')).toBeUndefined();
    expect(await card(b, 'c2')).toBeUndefined();
    expect(await card(a, 'c3')).toMatchObject({ title: 'after the txn' });
    expect(await card(b, 'c3')).toMatchObject({ title: 'after the txn' });
    expect((await a.sync.serverHash('board:1')).count).toBe(2);
    expect((await until(a.sync, (st) => st.rejections === 2)).rejections).toBe(2);
  });

  it('never splits a txn across pushes, wherever the batch limit falls', async () => {
    await s.server({ collections: { cards: { validate: noBadTitles } } });
    // Three mutations per push: the txns below straddle batch boundaries.
    const a = await s.device({ client: { limits: { maxMutationsPerPush: 3 } } });
    const b = await s.device();
    offline(a);
    await a.db.cards.bulkPut([
      { id: 'p1', board: '1', title: 'plain 1' },
      { id: 'p2', board: '1', title: 'plain 2' },
    ]);
    // mids 3–5: starts inside the first batch, so the first push stops before it.
    await a.sync.transaction(['cards'], async () => {
      await a.db.cards.put({ id: 't1', board: '1', title: 'txn 1 a' });
      await a.db.cards.put({ id: 't2', board: '1', title: 'txn 1 b' });
      await a.db.cards.put({ id: 't3', board: '1', title: 'txn 1 c' });
    });
    // mids 6–10: longer than a batch (and than what one read of the outbox head returns) and refused as a whole; it must still travel in one push.
    await a.sync.transaction(['cards'], async () => {
      await a.db.cards.put({ id: 'u1', board: '1', title: 'txn 2 a' });
      await a.db.cards.put({ id: 'u2', board: '1', title: 'txn 2 b' });
      await a.db.cards.put({ id: 'u3', board: '1', title: 'txn 2 c' });
      await a.db.cards.put({ id: 'u4', board: '1', title: 'txn 2 d' });
      await a.db.cards.put({ id: 'u5', board: '1', title: 'bad' });
    });
    await a.db.cards.put({ id: 'p3', board: '1', title: 'plain 3' });
    expect(await outboxOf(a)).toHaveLength(11);

    a.network.set(true);
    await until(a.sync, (st) => st.connected && st.pending === 0);
    await convergeAll(a, b);
    const ids = (await b.db.cards.toArray()).map((c) => c.id).sort();
    expect(ids).toEqual(['p1', 'p2', 'p3', 't1', 't2', 't3']);
    // All or nothing: no member of the refused txn reached the server; each is reported.
    const rejections = await next(a.sync.rejections$, (list) => list.length === 5);
    expect(rejections.map((r) => r.error.code).sort()).toEqual([
      'txn_aborted',
      'txn_aborted',
      'txn_aborted',
      'txn_aborted',
      'validation_failed',
    ]);
    expect((await a.sync.serverHash('board:1')).count).toBe(6);
  });

  it('commits a txn whose writes are all accepted, as one unit', async () => {
    const { a, b } = await setup();
    await a.sync.transaction(['cards'], async () => {
      await a.db.cards.put({ id: 'c2', board: '1', title: 'two' });
      await a.db.cards.update('c1', { title: 'one' });
    });
    await convergeAll(a, b);
    expect(await card(b, 'c1')).toEqual({ ...C1, title: 'one' });
    expect(await card(b, 'c2')).toMatchObject({ title: 'two' });
    expect((await until(a.sync, (st) => st.phase === 'live')).rejections).toBe(0);
  });
});

/** An object nested `depth` levels deep (`{}` is depth 1). */
function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

describe('writes outside the limits are refused at write time', () => {
  async function online(): Promise<Device> {
    await s.server();
    const a = await s.device();
    await a.db.cards.put(C1);
    await converged(a);
    return a;
  }

  async function expectNothingQueued(d: Device): Promise<void> {
    expect(await outboxOf(d)).toEqual([]);
    expect((await until(d.sync, (st) => st.phase === 'live')).pending).toBe(0);
    expect(await card(d, 'c1')).toEqual(C1);
    expect(await card(d, 'c2')).toBeUndefined();
  }

  it('refuses a __proto__ key built by JSON.parse, at the top level or nested', async () => {
    const a = await online();
    for (const json of [
      '{"id":"c2","board":"1","title":"t","__proto__":{"polluted":true}}',
      '{"id":"c2","board":"1","title":"t","meta":{"__proto__":{"polluted":true}}}',
    ]) {
      const value = JSON.parse(json) as Card;
      expect(Object.keys(value)).toContain(json.includes('meta') ? 'meta' : '__proto__');
      const write = a.db.cards.put(value);
      await expect(write, json).rejects.toBeInstanceOf(SynclineWriteError);
      await expect(write, json).rejects.toMatchObject({ error: { code: 'forbidden_key' } });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectNothingQueued(a);
  });

  it('refuses __proto__ in an update key path with forbidden_key', async () => {
    const a = await online();
    for (const spec of ['{"__proto__":{"x":1}}', '{"meta.__proto__.x":1}', '{"constructor":{"x":1}}']) {
      const write = a.db.cards.update('c1', JSON.parse(spec) as Partial<Card>);
      await expect(write, spec).rejects.toMatchObject({
        name: 'SynclineError',
        error: { code: 'forbidden_key' },
      });
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    await expectNothingQueued(a);
  });

  it('refuses record ids the server could not store (too long, NUL, lone surrogate) before queueing', async () => {
    const a = await online();
    for (const id of ['x'.repeat(257), 'a\u0000b', 'half \uD83D emoji']) {
      const write = a.db.cards.put({ id, board: '1', title: 't', status: 'todo' });
      await expect(write, JSON.stringify(id)).rejects.toMatchObject({
        name: 'SynclineError',
        error: { code: 'invalid_message' },
      });
    }
    await expectNothingQueued(a);
    // A full emoji (a surrogate pair) is a fine id.
    await a.db.cards.put({ id: 'card 😀', board: '1', title: 't', status: 'todo' });
    await converged(a);
  });

  it('refuses nesting deeper than 32, and accepts exactly 32', async () => {
    const a = await online();
    // The record itself is one level: 31 more fit.
    const write = a.db.cards.put({ id: 'c2', board: '1', title: 't', deep: nested(32) } as Card);
    await expect(write).rejects.toBeInstanceOf(SynclineWriteError);
    await expect(write).rejects.toMatchObject({ error: { code: 'too_deep' } });
    await expectNothingQueued(a);

    await a.db.cards.put({ id: 'c3', board: '1', title: 't', deep: nested(31) } as Card);
    await converged(a);
    expect((await a.sync.serverHash('board:1')).count).toBe(2);
  });

  it('refuses a record over maxRecordBytes, on put and on update', async () => {
    const a = await online();
    const big = 'x'.repeat(256 * 1024);
    const put = a.db.cards.put({ id: 'c2', board: '1', title: big });
    await expect(put).rejects.toBeInstanceOf(SynclineWriteError);
    await expect(put).rejects.toMatchObject({ error: { code: 'record_too_large' } });
    const update = a.db.cards.update('c1', { notes: big });
    await expect(update).rejects.toMatchObject({ error: { code: 'record_too_large' } });
    await expectNothingQueued(a);
  });

  it('a refused write aborts its whole transaction, and the next write still syncs', async () => {
    const a = await online();
    const txn = a.sync.transaction(['cards'], async () => {
      await a.db.cards.update('c1', { title: 'changed in txn' });
      await a.db.cards.put({ id: 'c2', board: '1', title: 't', deep: nested(40) } as Card);
    });
    await expect(txn).rejects.toBeInstanceOf(SynclineWriteError);
    await expectNothingQueued(a);

    // No mid was used up by the refused writes: the server sees no gap.
    await a.db.cards.update('c1', { title: 'after' });
    await converged(a);
    expect((await a.sync.history('cards', 'c1'))[0]).toMatchObject({
      op: 'patch',
      value: { title: 'after' },
    });
    expect((await until(a.sync, (st) => st.phase === 'live')).lastError).toBeNull();
  });
});
