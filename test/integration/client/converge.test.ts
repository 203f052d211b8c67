import { describe, expect, it } from 'vitest';
import { converged, SCOPE, until, settled } from '@syncline/test-support/devices';
import { scenario } from '../helpers/scenario.js';

const env = scenario();

describe('offline writes on two clients converge', () => {
  it('syncs a plain Dexie write to another client', async () => {
    await env.server();
    const a = await env.device();
    const b = await env.device();
    await until(a.sync, settled);
    await a.db.cards.put({ id: 'c1', board: '1', title: 'hello' });
    await converged(a);
    await converged(b);
    expect(await b.db.cards.get('c1')).toEqual({ id: 'c1', board: '1', title: 'hello' });
  });

  it('merges offline edits from two clients and both equal the server', async () => {
    await env.server();
    const a = await env.device();
    const b = await env.device();
    await a.db.cards.put({ id: 'c1', board: '1', title: 'first', status: 'todo', likes: 0 });
    await converged(a);
    await converged(b);
    a.network.set(false);
    b.network.set(false);
    await a.db.cards.update('c1', { title: 'from a' });
    await b.db.cards.update('c1', { status: 'done' });
    await a.sync.inc('cards', 'c1', 'likes', 1);
    await b.sync.inc('cards', 'c1', 'likes', 1);
    await b.db.cards.put({ id: 'c2', board: '1', title: 'made on b offline' });
    expect((await a.db.cards.get('c1'))?.likes).toBe(1);
    a.network.set(true);
    b.network.set(true);
    const ha = await converged(a);
    const hb = await converged(b);
    await converged(a);
    expect(ha).toBe(hb);
    const expected = { id: 'c1', board: '1', title: 'from a', status: 'done', likes: 2 };
    expect(await a.db.cards.get('c1')).toEqual(expected);
    expect(await b.db.cards.get('c1')).toEqual(expected);
    expect(await a.db.cards.get('c2')).toMatchObject({ title: 'made on b offline' });
    const status = await until(a.sync, settled);
    expect(status.initialSync.done).toBe(true);
    expect(SCOPE).toBe('board:1');
  });
});
