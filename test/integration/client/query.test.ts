import { describe, expect, it } from 'vitest';
// The devices helper installs fake-indexeddb: it loads before the client.
import { converged } from '@syncline/test-support/devices';
import { memoryElection, SynclineError, type QueryOptions, type QueryResultRow } from '@syncline/client';
import { next, scenario } from '../helpers/scenario.js';

const s = scenario();

/** Device b syncs board 2 and writes five cards there; device a syncs board 1 only. */
async function otherBoard() {
  await s.server({
    query: {
      sources: {
        archive: {
          collections: ['cards'],
          query: () => [
            { id: 'old-1', value: { board: '2', title: 'archived', due: new Date('2025-06-01T00:00:00Z') } },
          ],
        },
      },
    },
  });
  const a = await s.device();
  const b = await s.device({ client: { scopes: ['board:2'] } });
  for (let i = 0; i < 5; i++) {
    await b.db.cards.put({
      id: `k${i}`,
      board: '2',
      title: `card ${i}`,
      status: i % 2 === 0 ? 'todo' : 'done',
      due: new Date(Date.UTC(2026, 0, i + 1)),
    });
  }
  await converged(b);
  return { a, b };
}

describe('sync.query', () => {
  it('reads a scope this device does not sync, page by page, with values decoded and rows named by source', async () => {
    const { a } = await otherBoard();
    expect(await a.db.cards.count()).toBe(0);
    const query: QueryOptions = {
      scope: 'board:2',
      collection: 'cards',
      where: [{ field: 'due', op: 'gte', value: new Date(Date.UTC(2026, 0, 2)) }],
      orderBy: { field: 'due', direction: 'desc' },
      limit: 2,
    };
    const rows: QueryResultRow[] = [];
    let after: string | undefined;
    do {
      const page = await a.sync.query({ ...query, ...(after !== undefined ? { after } : {}) });
      expect(page.partial).toBe(false);
      rows.push(...page.rows);
      after = page.next ?? undefined;
    } while (after !== undefined);
    expect(rows.map((r) => r.key)).toEqual(['k4', 'k3', 'k2', 'k1']);
    expect(rows[0]).toMatchObject({ source: 'syncline', value: { title: 'card 4', board: '2' } });
    expect(rows[0]!.value['due']).toBeInstanceOf(Date);
    expect(typeof rows[0]!.version).toBe('number');
    // Nothing of board 2 was stored on a.
    expect(await a.db.cards.count()).toBe(0);

    const merged = await a.sync.query({
      scope: 'board:2',
      collection: 'cards',
      orderBy: { field: 'due' },
      limit: 10,
    });
    expect(merged.rows.map((r) => `${r.source}:${r.id}`)).toEqual([
      'archive:old-1',
      'syncline:k0',
      'syncline:k1',
      'syncline:k2',
      'syncline:k3',
      'syncline:k4',
    ]);
    expect(merged.rows[0]!.version).toBeNull();
    expect(merged.rows[0]!.value['due']).toEqual(new Date('2025-06-01T00:00:00Z'));
  });

  it('keeps the server’s code for a refused query, and checks arguments before sending', async () => {
    const { a } = await otherBoard();
    const refused = await a.sync
      .query({
        scope: 'board:2',
        collection: 'cards',
        where: [{ field: '__proto__.x', op: 'eq', value: 1 }],
        limit: 5,
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SynclineError);
    expect(refused).toMatchObject({ code: 'forbidden_key', retryable: false });
    const bad = await a.sync
      .query({
        scope: 'board:2',
        collection: 'cards',
        where: [{ field: 'n', op: 'eq', value: Number.NaN }],
        limit: 5,
      })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'invalid_argument', retryable: false });
    await expect(a.sync.query({ scope: 'board:2', collection: 'cards', limit: 0 })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
  });

  it('refuses at once offline with a retryable offline error, and answers again once online', async () => {
    const { a } = await otherBoard();
    a.network.set(false);
    const started = Date.now();
    await expect(a.sync.query({ scope: 'board:2', collection: 'cards', limit: 5 })).rejects.toMatchObject({
      name: 'SynclineError',
      code: 'offline',
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(1000);
    a.network.set(true);
    await converged(a);
    expect((await a.sync.query({ scope: 'board:2', collection: 'cards', limit: 10 })).rows).toHaveLength(6);
  });

  it('answers in a follower tab too, over a short-lived connection', async () => {
    const { a } = await otherBoard();
    const election = memoryElection();
    const leader = await s.device({ name: `tabs-${a.sync.clientId}`, election });
    const follower = await s.device({ name: `tabs-${a.sync.clientId}`, election });
    await next(leader.sync.status$, (st) => st.isLeader);
    expect((await next(follower.sync.status$, () => true)).isLeader).toBe(false);
    const page = await follower.sync.query({
      scope: 'board:2',
      collection: 'cards',
      orderBy: { field: 'title' },
      limit: 2,
    });
    // The archive row has no title: a missing field sorts first.
    expect(page.rows.map((r) => `${r.source}:${r.id}`)).toEqual(['archive:old-1', 'syncline:k0']);
    expect(page.next).not.toBeNull();
  });
});
