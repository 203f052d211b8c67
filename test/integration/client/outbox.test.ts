import { afterEach, describe, expect, it } from 'vitest';
// helpers first: it installs fake-indexeddb before Dexie loads.
import { device, converged, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';
import { add } from 'dexie';
import { firstValueFrom } from 'rxjs';
import type { OutboxEntry } from '@syncline/client';

let server: TestServer | undefined;
const devices: Device[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
  server = undefined;
});

/** A started device that stays offline, so its outbox can be inspected. */
async function offlineDevice(): Promise<Device> {
  server ??= await startServer();
  const d = device(server.url, { online: false });
  devices.push(d);
  await d.sync.start();
  return d;
}

const outbox = (d: Device): Promise<OutboxEntry[]> => firstValueFrom(d.sync.outbox$);
const ops = (entries: OutboxEntry[]) =>
  entries.map((e) => {
    const { mid, op, id } = e.mutation;
    const m = e.mutation as unknown as Record<string, unknown>;
    const detail =
      op === 'patch'
        ? m.patch
        : op === 'inc'
          ? { field: m.field, by: m.by }
          : op === 'put'
            ? m.value
            : undefined;
    return detail === undefined ? [mid, op, id] : [mid, op, id, detail];
  });

describe('the outbox middleware turns every Dexie write into queued mutations', () => {
  it('put, add, bulkPut and bulkAdd become puts with dense mids', async () => {
    const d = await offlineDevice();
    await d.db.cards.put({ id: 'a', board: '1', title: 'A' });
    await d.db.cards.add({ id: 'b', board: '1', title: 'B' });
    await d.db.cards.bulkPut([
      { id: 'c', board: '1', title: 'C' },
      { id: 'd', board: '1', title: 'D' },
    ]);
    await d.db.cards.bulkAdd([{ id: 'e', board: '1', title: 'E' }]);
    const entries = await outbox(d);
    expect(entries.map((e) => e.mutation.mid)).toEqual([1, 2, 3, 4, 5]);
    expect(
      entries.every(
        (e) => e.mutation.op === 'put' && e.mutation.base === 0 && e.mutation.scope === 'board:1',
      ),
    ).toBe(true);
  });

  it('update and modify({...}) become field-level patches; unset for undefined; add(n) becomes inc', async () => {
    const d = await offlineDevice();
    await d.db.cards.put({ id: 'a', board: '1', title: 'A', notes: 'n', likes: 1 });
    await d.db.table('cards').update('a', { title: 'A2', notes: undefined });
    await d.db.cards.where('id').equals('a').modify({ status: 'done' });
    await d.db.cards.update('a', { likes: add(2) });
    expect(ops(await outbox(d)).slice(1)).toEqual([
      [2, 'patch', 'a', { set: { title: 'A2' }, unset: ['notes'] }],
      [3, 'patch', 'a', { set: { status: 'done' } }],
      [4, 'inc', 'a', { field: 'likes', by: 2 }],
    ]);
    expect(await d.db.cards.get('a')).toEqual({ id: 'a', board: '1', title: 'A2', likes: 3, status: 'done' });
  });

  it('modify(fn) becomes a patch of the fields it changed', async () => {
    const d = await offlineDevice();
    await d.db.cards.bulkPut([
      { id: 'a', board: '1', title: 'A', status: 'todo' },
      { id: 'b', board: '1', title: 'B', status: 'todo' },
    ]);
    await d.db.cards.toCollection().modify((c) => {
      c.status = 'done';
      Reflect.deleteProperty(c, 'title');
    });
    expect(ops(await outbox(d)).slice(2)).toEqual([
      [3, 'patch', 'a', { set: { status: 'done' }, unset: ['title'] }],
      [4, 'patch', 'b', { set: { status: 'done' }, unset: ['title'] }],
    ]);
  });

  it('delete, bulkDelete, where().delete() and clear() become deletes of existing records only', async () => {
    const d = await offlineDevice();
    await d.db.cards.bulkPut(['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, board: '1', title: id })));
    await d.db.cards.delete('a');
    await d.db.cards.delete('missing');
    await d.db.cards.bulkDelete(['b']);
    await d.db.cards.where('id').equals('c').delete();
    await d.db.cards.clear();
    const deletes = ops(await outbox(d)).filter((e) => e[1] === 'delete');
    expect(deletes.map((e) => e[2])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await d.db.cards.count()).toBe(0);
  });

  it('a failed Dexie transaction queues nothing; a txn groups its writes under one id', async () => {
    const d = await offlineDevice();
    await expect(
      d.db.transaction('rw', d.db.cards, async () => {
        await d.db.cards.put({ id: 'x', board: '1', title: 'X' });
        throw new Error('app bug');
      }),
    ).rejects.toThrow('app bug');
    expect(await outbox(d)).toEqual([]);
    expect(await d.db.cards.get('x')).toBeUndefined();

    await d.sync.transaction(['cards'], async () => {
      await d.db.cards.put({ id: 'p', board: '1', title: 'P' });
      await d.db.cards.put({ id: 'q', board: '1', title: 'Q' });
    });
    const entries = await outbox(d);
    expect(entries).toHaveLength(2);
    expect(entries[0]!.mutation.txn).toBeDefined();
    expect(entries[1]!.mutation.txn).toBe(entries[0]!.mutation.txn);
  });

  it('all of it syncs and converges once online', async () => {
    const d = await offlineDevice();
    await d.db.cards.bulkPut(['a', 'b'].map((id) => ({ id, board: '1', title: id, likes: 0 })));
    await d.db.cards.update('a', { likes: add(5) });
    await d.db.cards.delete('b');
    d.network.set(true);
    await converged(d);
    expect(await d.db.cards.toArray()).toEqual([{ id: 'a', board: '1', title: 'a', likes: 5 }]);
  });
});
