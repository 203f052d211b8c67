import { describe, expect, it } from 'vitest';
import { asScopeId } from '@syncline/protocol';
import { MemoryStorage } from '@syncline/server';
// helpers.js installs fake-indexeddb: it must load before Dexie (via src) does.
import { SCOPE, settled, until, type Card, type Device } from '@syncline/test-support/devices';
import { dropNextBroadcast, socketIdsOf } from '@syncline/test-support/server';
import { card, convergeAll, next, offline, scenario } from '../helpers/scenario.js';

const s = scenario();

const C1: Card = { id: 'c1', board: '1', title: 'one' };
const C2: Card = { id: 'c2', board: '1', title: 'two' };
const D1: Card = { id: 'd1', board: '2', title: 'on board 2' };
const D2: Card = { id: 'd2', board: '2', title: 'also on board 2' };

const ids = async (d: Device) => (await d.db.cards.orderBy('id').toArray()).map((c) => c.id);
const scopeRows = (d: Device) => d.db.table<{ scope: string }>('_syncline_scopes').toArray();
const metaIds = async (d: Device) =>
  (await d.db.table<{ id: string }>('_syncline_records').toArray()).map((m) => m.id).sort();

describe('reset', () => {
  it('drops the local copy and pulls it again, keeping a pending edit that then syncs', async () => {
    const storage = new MemoryStorage();
    const server = await s.server({ storage });
    const a = await s.device();
    const b = await s.device();
    await a.db.cards.bulkPut([C1, C2]);
    await convergeAll(a, b);
    // A change of b's that a never hears of (its broadcast is lost): only a fresh pull brings it.
    const cut = dropNextBroadcast(
      server.server,
      `scope:${SCOPE}`,
      await socketIdsOf(server.server, a.sync.clientId),
    );
    await b.db.cards.update('c2', { title: 'changed by b' });
    await b.sync.whenSynced();
    expect(cut.dropped()).toBe(1);
    cut.restore();
    offline(a);
    await a.db.cards.update('c1', { title: 'edited offline' });
    a.network.set(true);
    expect(await card(a, 'c2')).toEqual(C2);
    await a.sync.reset();
    expect((await until(a.sync, (st) => settled(st) && st.initialSync.done)).pending).toBe(0);
    expect(await ids(a)).toEqual(['c1', 'c2']);
    expect(await card(a, 'c1')).toEqual({ ...C1, title: 'edited offline' });
    expect(await card(a, 'c2')).toEqual({ ...C2, title: 'changed by b' });
    expect((await storage.getRecord(asScopeId(SCOPE), 'cards', 'c1'))?.value).toEqual({
      ...C1,
      title: 'edited offline',
    });
    await convergeAll(a, b);
  });

  it('with discardPending drops pending edits, and later writes still sync (their mids stay in order)', async () => {
    const storage = new MemoryStorage();
    await s.server({ storage });
    const a = await s.device();
    const b = await s.device();
    await a.db.cards.put(C1);
    await convergeAll(a, b);
    a.sync.pause();
    await a.db.cards.update('c1', { title: 'to be discarded' });
    await a.db.cards.put({ id: 'c3', board: '1', title: 'discarded create' });
    a.sync.resume();
    // reset only runs in the leading tab; pause() keeps leadership.
    const resetting = a.sync.reset({ discardPending: true });
    await resetting;
    await until(a.sync, (st) => settled(st) && st.initialSync.done);
    expect(await ids(a)).toEqual(['c1']);
    expect(await card(a, 'c1')).toEqual(C1);
    expect(await a.db.table('_syncline_rejections').count()).toBe(0);
    expect((await storage.getRecord(asScopeId(SCOPE), 'cards', 'c1'))?.value).toEqual(C1);
    expect(await storage.getRecord(asScopeId(SCOPE), 'cards', 'c3')).toBeUndefined();
    await a.db.cards.update('c1', { title: 'after the reset' });
    await convergeAll(a, b);
    expect(await card(b, 'c1')).toEqual({ ...C1, title: 'after the reset' });
  });

  it('refuses in a tab that does not run sync', async () => {
    await s.server();
    const a = await s.device();
    await a.sync.stop();
    await expect(a.sync.reset()).rejects.toMatchObject({ code: 'not_leader' });
  });
});

describe('setScopes', () => {
  it('evicts the rows of a removed scope; a row with a pending change stays until it is answered', async () => {
    const storage = new MemoryStorage();
    await s.server({ storage });
    const scopes = [SCOPE, 'board:2'];
    const a = await s.device({ client: { scopes } });
    const b = await s.device({ client: { scopes } });
    await a.db.cards.bulkPut([C1, D1, D2]);
    await convergeAll(a, b);
    await converged2(b);
    offline(b);
    await b.db.cards.update('d1', { title: 'edited before leaving board 2' });
    b.sync.setScopes([SCOPE]);
    // d2 goes at once; d1 waits for its pending edit.
    await next(b.sync.scopes$, (list) => list.find((x) => x.scope === 'board:2')?.count === 1);
    expect(await ids(b)).toEqual(['c1', 'd1']);
    expect((await scopeRows(b)).map((r) => r.scope)).toEqual([SCOPE]);
    b.network.set(true);
    await until(b.sync, settled);
    await next(b.sync.scopes$, (list) => list.every((x) => x.scope !== 'board:2'));
    expect(await ids(b)).toEqual(['c1']);
    expect(await metaIds(b)).toEqual(['c1']);
    expect((await storage.getRecord(asScopeId('board:2'), 'cards', 'd1'))?.value).toEqual({
      ...D1,
      title: 'edited before leaving board 2',
    });
    // Changes on board 2 no longer arrive; board 1 still syncs.
    await a.db.cards.bulkPut([
      { ...D2, title: 'changed' },
      { ...C1, title: 'changed too' },
    ]);
    await a.sync.whenSynced();
    await b.sync.syncNow({ timeoutMs: 5_000 });
    expect(await ids(b)).toEqual(['c1']);
    expect(await card(b, 'c1')).toEqual({ ...C1, title: 'changed too' });
    // Subscribed again: pulled from the start.
    b.sync.setScopes([SCOPE, 'board:2']);
    await b.sync.whenInitialSynced({ timeoutMs: 5_000 });
    await until(b.sync, settled);
    expect(await ids(b)).toEqual(['c1', 'd1', 'd2']);
  });
});

/** Waits until the device's copy of board 2 equals the server's. */
async function converged2(d: Device): Promise<void> {
  const server = await d.sync.serverHash('board:2');
  await next(d.sync.scopes$, (list) => list.find((x) => x.scope === 'board:2')?.hash === server.hash);
}
