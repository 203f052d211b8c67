import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, filter } from 'rxjs';
import { converged, device, startServer, until, type Device, type TestServer } from './helpers.js';

let server: TestServer;
const devices: Device[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
});

describe('the manual conflict inbox', () => {
  it('keeps one conflict per record whose "mine" holds every offline edit, and keeping mine keeps all of them', async () => {
    server = await startServer({ collections: { cards: { strategy: 'manual' } } });
    const a = device(server.url);
    const b = device(server.url);
    devices.push(a, b);
    await a.sync.start();
    await b.sync.start();
    await a.db.cards.put({ id: 'c', board: '1', title: 'original', notes: 'n0', status: 'todo' });
    await converged(a);
    await converged(b);

    b.network.set(false);
    await b.db.cards.update('c', { title: 'b title' });
    await b.db.cards.update('c', { notes: 'b notes' });
    await a.db.cards.update('c', { status: 'done' });
    await converged(a);
    b.network.set(true);

    const settled = await until(b.sync, (s) => s.pending === 0 && s.conflicts > 0);
    expect(settled.conflicts).toBe(1);
    const [conflict] = await firstValueFrom(b.sync.conflicts$.pipe(filter((c) => c.length > 0)));
    expect(conflict!.base).toMatchObject({ title: 'original', notes: 'n0', status: 'todo' });
    expect(conflict!.mine).toMatchObject({ title: 'b title', notes: 'b notes', status: 'todo' });
    expect(conflict!.theirs.value).toMatchObject({ title: 'original', notes: 'n0', status: 'done' });

    await b.sync.resolveConflict(conflict!.mid, 'mine');
    const hb = await converged(b);
    const ha = await converged(a);
    expect(ha).toBe(hb);
    // Both of B's edits survive; A's concurrent change to another field is not thrown away.
    expect(await a.db.cards.get('c')).toMatchObject({ title: 'b title', notes: 'b notes', status: 'done' });
  });
});
