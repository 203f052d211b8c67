import { describe, expect, it } from 'vitest';
import { firstValueFrom, filter } from 'rxjs';
import { converged, until } from '@syncline/test-support/devices';
import { scenario } from '../helpers/scenario.js';

const env = scenario();

describe('the manual conflict inbox', () => {
  it('keeps one conflict per record whose "mine" holds every offline edit, and keeping mine keeps all of them', async () => {
    await env.server({ collections: { cards: { strategy: 'manual' } } });
    const a = await env.device();
    const b = await env.device();
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
