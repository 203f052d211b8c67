import { afterEach, describe, expect, it } from 'vitest';
import type { AuthHooks, Validator } from '@syncline/server';
// helpers.js installs fake-indexeddb: it must load before Dexie (via src) does.
import { device, SCOPE, settled, until, type Card, type Device } from '@syncline/test-support/devices';
import { dropNextBroadcast, socketIdsOf } from '@syncline/test-support/server';
import { memoryElection, SynclineError } from '@syncline/client';
import { card, convergeAll, next, offline, scenario } from '../helpers/scenario.js';

const s = scenario();

const noBadTitles: Validator = (value) => (value.title === 'bad' ? 'no bad titles' : undefined);
/** Everyone may connect; nobody may touch scope `secret`. */
const noSecrets: AuthHooks = {
  authenticate: () => ({ id: 'u' }),
  authorize: (_p, scope) => scope !== 'secret',
};
const C1: Card = { id: 'c1', board: '1', title: 'one' };

/** A rejected promise's error, or a failure when it resolved. */
async function failure(p: Promise<unknown>): Promise<SynclineError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SynclineError);
    return err as SynclineError;
  }
  throw new Error('expected a rejection');
}

describe('whenSynced', () => {
  it('resolves once every write queued before the call is answered, and reports the rejected ones', async () => {
    await s.server({ collections: { cards: { validate: noBadTitles } } });
    const a = await s.device({ online: false });
    await a.db.cards.put(C1);
    await a.db.cards.put({ id: 'c2', board: '1', title: 'bad' });
    const waiting = a.sync.whenSynced();
    let done = false;
    void waiting.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false); // offline: nothing answered
    a.network.set(true);
    const report = await waiting;
    expect(report.upToMid).toBe(2);
    expect(report.answered).toBe(2);
    expect(report.rejected.map((r) => [r.id, r.error.code])).toEqual([['c2', 'validation_failed']]);
    expect(report.conflicts).toEqual([]);
    // Everything it waited for is answered: the outbox holds nothing of it.
    expect((await until(a.sync, settled)).pending).toBe(0);
    expect(await card(a, 'c2')).toBeUndefined();
  });

  it('resolves at once with nothing queued, and reports conflicts sent to the inbox', async () => {
    await s.server({ collections: { cards: { strategy: 'manual' } } });
    const a = await s.device();
    const b = await s.device();
    expect(await a.sync.whenSynced()).toEqual({ upToMid: 0, answered: 0, rejected: [], conflicts: [] });
    await a.db.cards.put(C1);
    await convergeAll(a, b);
    offline(a);
    await a.db.cards.update('c1', { title: 'from a' });
    await b.db.cards.update('c1', { title: 'from b' });
    await b.sync.whenSynced();
    const waiting = a.sync.whenSynced();
    a.network.set(true);
    const report = await waiting;
    expect(report.rejected).toEqual([]);
    expect(report.conflicts.map((c) => [c.id, c.mine?.title, c.theirs.value?.title])).toEqual([
      ['c1', 'from a', 'from b'],
    ]);
  });

  it('rejects with timeout (retryable) while offline, and with closed when the client closes', async () => {
    await s.server();
    const a = await s.device({ online: false });
    await a.db.cards.put(C1);
    const timedOut = await failure(a.sync.whenSynced({ timeoutMs: 150 }));
    expect([timedOut.code, timedOut.retryable]).toEqual(['timeout', true]);
    const waiting = a.sync.whenSynced();
    const initial = a.sync.whenInitialSynced();
    await a.sync.close();
    expect((await failure(waiting)).code).toBe('closed');
    expect((await failure(initial)).code).toBe('closed');
  });

  it('works in a follower tab: it waits for the leader to push the shared outbox', async () => {
    const server = await s.server();
    const election = memoryElection();
    const name = `await-follower-${process.pid}`;
    const leader = track(device(server.url, { name, election, online: false }));
    const follower = track(device(server.url, { name, election }));
    await leader.sync.start();
    await follower.sync.start();
    expect((await until(follower.sync, (st) => !st.isLeader)).isLeader).toBe(false);
    await follower.db.cards.put(C1);
    const waiting = follower.sync.whenSynced({ timeoutMs: 10_000 });
    leader.network.set(true);
    expect((await waiting).upToMid).toBe(1);
    expect((await leader.sync.serverHash(SCOPE)).count).toBe(1);
  });
});

const tracked: Device[] = [];
function track(d: Device): Device {
  tracked.push(d);
  return d;
}
// Closed before the scenario's server stops (after-hooks run last-registered first).
afterEach(async () => {
  for (const d of tracked.splice(0)) await d.sync.close();
});

describe('lastMid and whenAcknowledged', () => {
  it('tells how the server answered one write', async () => {
    await s.server({ collections: { cards: { validate: noBadTitles } } });
    const a = await s.device();
    expect(a.sync.lastMid()).toBe(0);
    await a.db.cards.put(C1);
    const good = a.sync.lastMid();
    await a.db.cards.put({ id: 'c2', board: '1', title: 'bad' });
    const bad = a.sync.lastMid();
    expect([good, bad]).toEqual([1, 2]);
    expect(await a.sync.whenAcknowledged(good)).toEqual({ status: 'applied' });
    expect(await a.sync.whenAcknowledged(bad)).toMatchObject({
      status: 'rejected',
      rejection: { id: 'c2', error: { code: 'validation_failed' } },
    });
    // Asked again later, the answer is the same.
    expect((await a.sync.whenAcknowledged(bad)).status).toBe('rejected');
    const unknown = await failure(a.sync.whenAcknowledged(99));
    expect([unknown.code, unknown.retryable]).toEqual(['unknown_mid', false]);
  });

  it('reports a manual conflict, and times out while offline', async () => {
    await s.server({ collections: { cards: { strategy: 'manual' } } });
    const a = await s.device();
    const b = await s.device();
    await a.db.cards.put(C1);
    await convergeAll(a, b);
    offline(a);
    const due = new Date('2026-12-24T18:00:00.000Z');
    await a.db.cards.update('c1', { title: 'from a', due });
    const mid = a.sync.lastMid();
    expect((await failure(a.sync.whenAcknowledged(mid, { timeoutMs: 100 }))).code).toBe('timeout');
    await b.db.cards.update('c1', { title: 'from b' });
    await b.sync.whenSynced();
    a.network.set(true);
    const outcome = await a.sync.whenAcknowledged(mid);
    // The conflict as the inbox shows it: the app's key and types, not the wire encoding.
    expect(outcome).toMatchObject({
      status: 'conflict',
      conflict: { id: 'c1', key: 'c1', mine: { title: 'from a', due } },
    });
    expect(outcome.status === 'conflict' && outcome.conflict.mine?.['due']).toBeInstanceOf(Date);
  });
});

describe('whenInitialSynced', () => {
  it('resolves once the current scopes are pulled, and at once for a copy synced before', async () => {
    const server = await s.server();
    const a = await s.device();
    await a.db.cards.bulkPut([C1, { id: 'c2', board: '1', title: 'two' }]);
    await a.sync.whenSynced();
    const name = `initial-${process.pid}`;
    const b = track(device(server.url, { name }));
    const waiting = b.sync.whenInitialSynced({ timeoutMs: 10_000 });
    await b.sync.start();
    await waiting;
    expect((await b.db.cards.toArray()).map((c) => c.id)).toEqual(['c1', 'c2']);
    await b.sync.close();
    // Reopened offline: the copy is there, so the initial sync is done without a server.
    const again = track(device(server.url, { name, online: false }));
    await again.sync.start();
    await again.sync.whenInitialSynced({ timeoutMs: 2_000 });
    const status = await until(again.sync, (st) => st.initialSync.done);
    expect(status.initialSync.fraction).toBe(1);
  });

  it('times out while the first sync cannot happen', async () => {
    await s.server();
    const a = await s.device({ online: false });
    expect((await failure(a.sync.whenInitialSynced({ timeoutMs: 100 }))).code).toBe('timeout');
  });
});

describe('syncNow', () => {
  it('pulls a change whose broadcast was lost, and pushes, at once', async () => {
    const server = await s.server();
    const a = await s.device();
    const b = await s.device();
    await until(b.sync, settled);
    const cut = dropNextBroadcast(
      server.server,
      `scope:${SCOPE}`,
      await socketIdsOf(server.server, b.sync.clientId),
    );
    await a.db.cards.put(C1);
    await a.sync.whenSynced();
    expect(cut.dropped()).toBe(1);
    cut.restore();
    expect(await card(b, 'c1')).toBeUndefined(); // b never heard of it
    await b.sync.syncNow({ timeoutMs: 5_000 });
    expect(await card(b, 'c1')).toEqual(C1);
  });

  it('rejects offline, before start, and in a follower tab', async () => {
    const server = await s.server();
    const off = await s.device({ online: false });
    expect((await failure(off.sync.syncNow())).code).toBe('offline');
    const idle = track(device(server.url));
    expect((await failure(idle.sync.syncNow())).code).toBe('not_started');
    const election = memoryElection();
    const name = `syncnow-${process.pid}`;
    const leader = track(device(server.url, { name, election }));
    const follower = track(device(server.url, { name, election }));
    await leader.sync.start();
    await follower.sync.start();
    await leader.sync.syncNow({ timeoutMs: 5_000 });
    const refused = await failure(follower.sync.syncNow());
    expect(refused.code).toBe('not_leader');
  });
});

describe('history and serverHash errors', () => {
  it('are SynclineErrors with a code', async () => {
    await s.server({ auth: noSecrets });
    const a = await s.device();
    const err = await failure(a.sync.history('cards', 'nope'));
    expect([err.code, err.retryable]).toEqual(['unknown_record', false]);
    const refused = await failure(a.sync.serverHash('secret'));
    expect(refused.code).toBe('forbidden');
    await next(a.sync.status$, settled);
  });
});
