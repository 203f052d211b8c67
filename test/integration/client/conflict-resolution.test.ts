import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import type { ConflictEntry, ConflictResolution } from '@syncline/client';
import { converged, until, type Card, type Device } from '@syncline/test-support/devices';
import { convergeAll, next, scenario } from '../helpers/scenario.js';

const env = scenario();

/**
 * Issue 16, finding 2: device A, offline, changes a card's status (and title) and likes it; B
 * likes it and changes its notes (and title). A reconnects with a manual conflict. Whatever A
 * resolves, both likes count and B's notes survive: a resolution writes only what A chose.
 */
async function conflictWithCounters(): Promise<{ a: Device; b: Device; conflict: ConflictEntry }> {
  await env.server({ collections: { cards: { strategy: 'manual' } } });
  const a = await env.device();
  const b = await env.device();
  await a.db.cards.put({ id: 'c', board: '1', title: 'original', notes: 'n0', status: 'todo', likes: 0 });
  await convergeAll(a, b);

  a.network.set(false);
  await a.db.cards.update('c', { status: 'doing', title: 'a title' });
  await a.sync.inc('cards', 'c', 'likes');
  await b.db.cards.update('c', { notes: 'b notes', title: 'b title' });
  await b.sync.inc('cards', 'c', 'likes');
  await converged(b);
  a.network.set(true);

  await until(a.sync, (s) => s.pending === 0 && s.conflicts > 0);
  const [conflict] = await next(a.sync.conflicts$, (c) => c.length > 0);
  // The board already counts both likes; the inbox says the counter merged on its own.
  expect((await a.db.cards.get('c'))?.likes).toBe(2);
  expect(conflict!.counters).toEqual(['likes']);
  return { a, b, conflict: conflict! };
}

async function resolveAndConverge(resolution: (c: ConflictEntry) => ConflictResolution): Promise<Card> {
  const { a, b, conflict } = await conflictWithCounters();
  await a.sync.resolveConflict(conflict.mid, resolution(conflict));
  const hash = await convergeAll(a, b);
  expect(await converged(a)).toBe(hash);
  await until(a.sync, (s) => s.conflicts === 0);
  const onA = await a.db.cards.get('c');
  expect(await b.db.cards.get('c')).toEqual(onA);
  return onA!;
}

describe('resolving a manual conflict writes only what was chosen (issue 16, finding 2)', () => {
  it('keep mine: my fields over the server value, both likes and their notes kept', async () => {
    const card = await resolveAndConverge(() => 'mine');
    expect(card).toMatchObject({ status: 'doing', title: 'a title', notes: 'b notes', likes: 2 });
  });

  it('take theirs: the server value stays, both likes kept', async () => {
    const card = await resolveAndConverge(() => 'theirs');
    expect(card).toMatchObject({ status: 'todo', title: 'b title', notes: 'b notes', likes: 2 });
  });

  it('merge fields: each chosen side per field, unnamed fields and counters untouched', async () => {
    const card = await resolveAndConverge(() => ({
      fields: { status: 'mine', title: 'theirs', likes: 'mine' },
    }));
    expect(card).toMatchObject({ status: 'doing', title: 'b title', notes: 'b notes', likes: 2 });
  });

  it('a custom value: the fields that differ from the server value, never the counter', async () => {
    const card = await resolveAndConverge((c) => ({
      value: { ...c.theirs.value, status: 'blocked', title: 'agreed', likes: 0 },
    }));
    expect(card).toMatchObject({ status: 'blocked', title: 'agreed', notes: 'b notes', likes: 2 });
  });

  it("the issue's reproduction: the old inbox's merge (theirs with my fields, as a value) keeps both likes", async () => {
    const card = await resolveAndConverge((c) => {
      const mine = c.mine!;
      return { value: { ...c.theirs.value, status: mine['status'], title: mine['title'] } };
    });
    expect(card).toMatchObject({ status: 'doing', title: 'a title', notes: 'b notes', likes: 2 });
  });

  it('keep mine after more changes: an inc before the conflicting edit, their later edits and my pending like all survive', async () => {
    await env.server({ collections: { cards: { strategy: 'manual' } } });
    const a = await env.device();
    const b = await env.device();
    await a.db.cards.put({ id: 'c', board: '1', title: 'original', notes: 'n0', status: 'todo', likes: 0 });
    await convergeAll(a, b);
    a.network.set(false);
    await a.sync.inc('cards', 'c', 'likes');
    await a.db.cards.update('c', { status: 'doing' });
    await b.sync.inc('cards', 'c', 'likes');
    await converged(b);
    a.network.set(true);
    const [conflict] = await next(a.sync.conflicts$, (c) => c.length > 0);
    expect(conflict!.counters).toEqual(['likes']);

    // While A's conflict is open, B changes notes and likes again; A likes it once more offline.
    await b.db.cards.update('c', { notes: 'b notes' });
    await b.sync.inc('cards', 'c', 'likes');
    await converged(b);
    await converged(a);
    expect(await a.db.cards.get('c')).toMatchObject({ notes: 'b notes', likes: 3, status: 'todo' });
    a.network.set(false);
    await a.sync.inc('cards', 'c', 'likes');
    await a.sync.resolveConflict(conflict!.mid, 'mine');
    a.network.set(true);
    await convergeAll(a, b);
    const card = await b.db.cards.get('c');
    expect(card).toMatchObject({ status: 'doing', notes: 'b notes', likes: 4 });
    expect(await a.db.cards.get('c')).toEqual(card);
    // The resolution travelled as a patch of the one chosen field, not as a whole value.
    const history = await b.sync.history('cards', 'c');
    const resolution = history.find((h) => h.clientId === a.sync.clientId && h.value?.['status'] === 'doing');
    expect(resolution).toMatchObject({ op: 'patch' });
  });

  it('refuses a field choice that is neither mine nor theirs, and changes nothing', async () => {
    const { a, conflict } = await conflictWithCounters();
    const bad = { fields: { status: 'both' } } as unknown as ConflictResolution;
    await expect(a.sync.resolveConflict(conflict.mid, bad)).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    expect(await firstValueFrom(a.sync.conflicts$)).toHaveLength(1);
  });
});
