import { describe, expect, it } from 'vitest';
import { firstValueFrom, filter } from 'rxjs';
import { converged, until } from '@syncline/test-support/devices';
import { scenario } from '../helpers/scenario.js';

const env = scenario();

describe('poison mutations', () => {
  it('are quarantined, rolled back and reported, and never block the queue', async () => {
    // The server's record limit is lower than the client's: the client accepts the write,
    // the server can never accept it.
    await env.server({ limits: { maxRecordBytes: 2_000 } });
    const a = await env.device();
    const b = await env.device();
    await a.db.cards.put({ id: 'ok1', board: '1', title: 'before' });
    await converged(a);

    a.network.set(false);
    await a.db.cards.put({ id: 'big', board: '1', title: 'x'.repeat(5_000) });
    await a.db.cards.put({ id: 'ok2', board: '1', title: 'after' });
    a.network.set(true);

    const rejections = await firstValueFrom(a.sync.rejections$.pipe(filter((r) => r.length > 0)));
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ id: 'big', error: { code: 'record_too_large' } });
    await converged(a);
    await converged(b);
    // Rolled back locally (it never existed on the server), and the write after it synced.
    expect(await a.db.cards.get('big')).toBeUndefined();
    expect(await b.db.cards.get('ok2')).toMatchObject({ title: 'after' });
    const status = await until(a.sync, (s) => s.pending === 0);
    expect(status.rejections).toBe(1);
  });
});
