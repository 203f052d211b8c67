// Before dexie: Dexie picks up the global indexedDB when it loads.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { asScopeId } from '@syncline/protocol';
import { firstValueFrom, filter } from 'rxjs';
import { MemoryStorage, type CollectionsConfig, type SyncStorage } from '@syncline/server';
import { eventually } from '@syncline/test-support';
import { converged, device, SCOPE, until, type Device } from '@syncline/test-support/devices';
import { FaultyStorage, startServer, type RunningServer } from '@syncline/test-support/server';

const SCOPE_ID = asScopeId(SCOPE);
const servers: RunningServer[] = [];
const devices: Device[] = [];

afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(
  storage: SyncStorage = new MemoryStorage(),
  collections?: CollectionsConfig,
): Promise<RunningServer> {
  const s = await startServer({ storage, ...(collections ? { collections } : {}) });
  servers.push(s);
  return s;
}

async function started(d: Device): Promise<Device> {
  devices.push(d);
  await d.sync.start();
  return d;
}

async function historyOf(storage: SyncStorage, id: string) {
  const entries = await storage.history(SCOPE_ID, 'cards', id, { limit: 50 });
  return entries.map((h) => ({ op: h.op, mid: h.mid, value: h.value }));
}

/** Five writes of c1 made offline: a put and four updates. */
async function fiveOfflineEdits(d: Device): Promise<void> {
  await d.db.cards.put({ id: 'c1', board: '1', title: 'draft 1', status: 'todo' });
  for (let i = 2; i <= 5; i++) await d.db.cards.update('c1', { title: `draft ${i}` });
  await until(d.sync, (s) => s.pending === 5);
}

describe('outbox coalescing', () => {
  it('pushes five offline edits of a record as one version with the final value', async () => {
    const server = await serve();
    const a = await started(device(server.url, { online: false }));
    await fiveOfflineEdits(a);
    a.network.set(true);
    await converged(a);
    expect(await a.db.table('_syncline_outbox').count()).toBe(0);
    expect(await server.storage.head(SCOPE_ID)).toBe(1);
    expect(await historyOf(server.storage, 'c1')).toEqual([
      { op: 'put', mid: 5, value: { id: 'c1', board: '1', title: 'draft 5', status: 'todo' } },
    ]);
    const b = await started(device(server.url));
    await converged(b);
    expect(await b.db.cards.get('c1')).toEqual({ id: 'c1', board: '1', title: 'draft 5', status: 'todo' });
  });

  it('keeps every write in history with coalesce: false', async () => {
    const server = await serve();
    const a = await started(device(server.url, { online: false, client: { coalesce: false } }));
    await fiveOfflineEdits(a);
    a.network.set(true);
    await converged(a);
    expect((await historyOf(server.storage, 'c1')).map((h) => h.mid)).toEqual([5, 4, 3, 2, 1]);
  });

  it('adds coalesced increments up exactly, alongside another device’s', async () => {
    const server = await serve();
    const a = await started(device(server.url));
    const b = await started(device(server.url));
    await a.db.cards.put({ id: 'c1', board: '1', title: 'liked', likes: 0 });
    await converged(a);
    await converged(b);
    a.network.set(false);
    for (let i = 0; i < 5; i++) await a.sync.inc('cards', 'c1', 'likes', 2);
    await b.sync.inc('cards', 'c1', 'likes', 1);
    await converged(b);
    a.network.set(true);
    await converged(a);
    await converged(b);
    expect((await server.storage.getRecord(SCOPE_ID, 'cards', 'c1'))?.value?.['likes']).toBe(11);
    expect((await a.db.cards.get('c1'))?.likes).toBe(11);
    expect((await b.db.cards.get('c1'))?.likes).toBe(11);
    const history = await historyOf(server.storage, 'c1');
    expect(history.map((h) => h.op)).toEqual(['inc', 'inc', 'put']);
  });

  it('applies a coalesced push once when its ack is lost', async () => {
    const storage = new FaultyStorage(new MemoryStorage());
    const server = await serve(storage);
    const a = await started(device(server.url));
    await a.db.cards.put({ id: 'c1', board: '1', title: 'liked', likes: 0 });
    await converged(a);
    a.network.set(false);
    for (let i = 0; i < 5; i++) await a.sync.inc('cards', 'c1', 'likes', 1);
    const seen = storage.outcomes.length;
    storage.arm(() => server.server.io.disconnectSockets(true));
    a.network.set(true);
    await eventually(() => storage.fired === 1, 'the armed fault never fired');
    await converged(a);
    const results = storage.outcomes.slice(seen).flatMap((o) => o.results ?? []);
    expect(results.filter((r) => r.status !== 'duplicate')).toEqual([
      { mid: 2, status: 'applied', version: 2 },
    ]);
    expect((await server.storage.getRecord(SCOPE_ID, 'cards', 'c1'))?.value?.['likes']).toBe(5);
    expect((await a.db.cards.get('c1'))?.likes).toBe(5);
    expect(await a.db.table('_syncline_outbox').count()).toBe(0);
  });

  it('re-cuts a resend that would straddle what the server applied before the ack was lost', async () => {
    const storage = new FaultyStorage(new MemoryStorage());
    const server = await serve(storage);
    const a = await started(device(server.url));
    await a.db.cards.put({ id: 'c1', board: '1', title: 'liked', likes: 0 });
    await converged(a);
    a.network.set(false);
    for (let i = 0; i < 5; i++) await a.sync.inc('cards', 'c1', 'likes', 1);
    const seen = storage.outcomes.length;
    // The push of mids 2–6 commits, then the device drops off before it hears back.
    storage.arm(() => {
      a.network.set(false);
      server.server.io.disconnectSockets(true);
    });
    a.network.set(true);
    await eventually(() => storage.fired === 1, 'the armed fault never fired');
    // Two more increments while offline: the resend would coalesce mids 2–8.
    await a.sync.inc('cards', 'c1', 'likes', 1);
    await a.sync.inc('cards', 'c1', 'likes', 1);
    a.network.set(true);
    await converged(a);

    const outcomes = storage.outcomes.slice(seen) as { ok: boolean; error?: { code: string } }[];
    expect(outcomes.some((o) => !o.ok && o.error?.code === 'mid_overlap')).toBe(true);
    expect((await server.storage.getRecord(SCOPE_ID, 'cards', 'c1'))?.value?.['likes']).toBe(7);
    expect((await a.db.cards.get('c1'))?.likes).toBe(7);
    expect(await a.db.table('_syncline_outbox').count()).toBe(0);
    expect((await historyOf(server.storage, 'c1')).map((h) => [h.op, h.mid])).toEqual([
      ['inc', 8],
      ['inc', 6],
      ['put', 1],
    ]);
  });

  it('shows the merged "mine" of a coalesced mutation in the conflict inbox', async () => {
    const server = await serve(new MemoryStorage(), { cards: { strategy: 'manual' } });
    const a = await started(device(server.url));
    const b = await started(device(server.url));
    await a.db.cards.put({ id: 'c1', board: '1', title: 'first', notes: 'n' });
    await converged(a);
    await converged(b);
    a.network.set(false);
    await a.db.cards.update('c1', { title: 'mine 1' });
    await a.db.cards.update('c1', { notes: 'mine 2' });
    await b.db.cards.update('c1', { title: 'theirs' });
    await converged(b);
    a.network.set(true);
    const status = await until(a.sync, (s) => s.pending === 0 && s.conflicts > 0);
    expect(status.conflicts).toBe(1);
    const [conflict] = await firstValueFrom(a.sync.conflicts$.pipe(filter((c) => c.length > 0)));
    expect(conflict!.mine).toEqual({ id: 'c1', board: '1', title: 'mine 1', notes: 'mine 2' });
    expect(conflict!.theirs.value).toEqual({ id: 'c1', board: '1', title: 'theirs', notes: 'n' });
    // One conflict answered one coalesced mutation: nothing of A's was written.
    expect((await historyOf(server.storage, 'c1')).map((h) => h.op)).toEqual(['patch', 'put']);
  });
});
