import { describe, expect, it } from 'vitest';
import type { AppHistoryEntry as HistoryEntry } from '@syncline/client';
import { type Card, type Device, converged } from '@syncline/test-support/devices';
import { card, convergeAll, offline, scenario } from '../helpers/scenario.js';

const s = scenario();

/**
 * c1 edited five times by two devices (a: create, title; b: status; a: notes; b: title and
 * notes removed, through a modify function), plus an unrelated record so that scope versions
 * are not simply the record's own count. `values[i]` is c1 after edit i + 1.
 */
async function editedCard(): Promise<{ a: Device; b: Device; values: Card[] }> {
  await s.server();
  const a = await s.device();
  const b = await s.device();
  const values: Card[] = [];
  const step = async (write: () => Promise<unknown>) => {
    await write();
    await convergeAll(a, b);
    values.push((await card(a, 'c1'))!);
  };
  await step(() => a.db.cards.put({ id: 'c1', board: '1', title: 'v1', status: 'todo' }));
  await a.db.cards.put({ id: 'other', board: '1', title: 'unrelated' });
  await step(() => a.db.cards.update('c1', { title: 'v2' }));
  await step(() => b.db.cards.update('c1', { status: 'doing' }));
  await step(() => a.db.cards.update('c1', { notes: 'some notes' }));
  await step(() =>
    b.db.cards.update('c1', (c) => {
      c.title = 'v5';
      delete c.notes;
    }),
  );
  return { a, b, values };
}

function expectChain(entries: readonly HistoryEntry[]): void {
  for (let i = 0; i + 1 < entries.length; i++) {
    expect(entries[i]!.version).toBeGreaterThan(entries[i + 1]!.version);
    expect(entries[i]!.prevVersion).toBe(entries[i + 1]!.version);
  }
  expect(entries[entries.length - 1]!.prevVersion).toBe(0);
}

describe('sync.history', () => {
  it('returns the server history of a record, newest first, with who made each change', async () => {
    const { a, b, values } = await editedCard();
    expect(values.map((v) => v.title)).toEqual(['v1', 'v2', 'v2', 'v2', 'v5']);
    expect(values[4]).toEqual({ id: 'c1', board: '1', title: 'v5', status: 'doing' });

    for (const d of [a, b]) {
      const entries = await d.sync.history('cards', 'c1');
      expect(entries).toHaveLength(5);
      expect(entries.map((e) => e.value)).toEqual([...values].reverse());
      expect(entries.map((e) => e.op)).toEqual(['patch', 'patch', 'patch', 'patch', 'put']);
      const ids = [b, a, b, a, a].map((x) => x.sync.clientId);
      expect(entries.map((e) => e.clientId)).toEqual(ids);
      expect(entries.every((e) => e.conflict === null && e.restoredFrom === null)).toBe(true);
      expectChain(entries);
    }
  });

  it('pages with limit and before', async () => {
    const { b, values } = await editedCard();
    const all = await b.sync.history('cards', 'c1');
    const newest = await b.sync.history('cards', 'c1', { limit: 2 });
    expect(newest).toEqual(all.slice(0, 2));
    const older = await b.sync.history('cards', 'c1', { before: newest[1]!.version });
    expect(older).toEqual(all.slice(2));
    expect(older.map((e) => e.value)).toEqual(values.slice(0, 3).reverse());
  });

  it('keeps the history of a deleted record, ending with the delete', async () => {
    const { a, b } = await editedCard();
    await b.db.cards.delete('c1');
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toBeUndefined();
    const entries = await a.sync.history('cards', 'c1');
    expect(entries).toHaveLength(6);
    expect(entries[0]).toMatchObject({ op: 'delete', value: null, clientId: b.sync.clientId });
    expectChain(entries);
  });

  it('includes changes that are offline-merged, flagged with what they overwrote', async () => {
    const { a, b } = await editedCard();
    offline(a, b);
    await a.db.cards.update('c1', { title: 'from a' });
    await b.db.cards.update('c1', { title: 'from b' });
    a.network.set(true);
    await converged(a);
    b.network.set(true);
    await convergeAll(a, b);
    const [merged, plain] = await a.sync.history('cards', 'c1');
    expect(plain).toMatchObject({ clientId: a.sync.clientId, value: { title: 'from a' }, conflict: null });
    expect(merged).toMatchObject({
      clientId: b.sync.clientId,
      value: { title: 'from b' },
      conflict: { strategy: 'merge', overwritten: ['title'] },
    });
  });

  it('refuses a record this client does not have', async () => {
    const { a } = await editedCard();
    await expect(a.sync.history('cards', 'nope')).rejects.toThrow(/no synced record/);
  });
});

describe('sync.restore', () => {
  it('restores an old version on every device as a new version; history keeps growing', async () => {
    const { a, b, values } = await editedCard();
    const before = await a.sync.history('cards', 'c1');
    const v2 = before[3]!;
    expect(v2.value).toEqual(values[1]);

    await b.sync.restore('cards', 'c1', v2.version);
    // Shown at once on the restoring device, before the server answers.
    expect(await card(b, 'c1')).toEqual(values[1]);
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toEqual(values[1]);
    expect(await card(b, 'c1')).toEqual(values[1]);

    const after = await a.sync.history('cards', 'c1');
    expect(after).toHaveLength(before.length + 1);
    expect(after.slice(1)).toEqual(before);
    expect(after[0]).toMatchObject({
      op: 'restore',
      restoredFrom: v2.version,
      prevVersion: before[0]!.version,
      value: values[1],
      clientId: b.sync.clientId,
    });
    expect(after[0]!.version).toBeGreaterThan(before[0]!.version);

    // Edit on top of the restored value, then restore the very first version from the other device.
    await a.db.cards.update('c1', { status: 'done' });
    await convergeAll(a, b);
    const v1 = after[after.length - 1]!;
    await a.sync.restore('cards', 'c1', v1.version);
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toEqual(values[0]);
    expect(await card(b, 'c1')).toEqual(values[0]);
    const last = await b.sync.history('cards', 'c1');
    expect(last).toHaveLength(before.length + 3);
    expect(last[0]).toMatchObject({ op: 'restore', restoredFrom: v1.version, clientId: a.sync.clientId });
    expect(last[1]).toMatchObject({ op: 'patch', value: { ...values[1], status: 'done' } });
    expectChain(last);
  });

  it('brings a deleted record back on every device', async () => {
    const { a, b, values } = await editedCard();
    const latest = (await a.sync.history('cards', 'c1'))[0]!;
    await a.db.cards.delete('c1');
    await convergeAll(a, b);
    expect(await card(b, 'c1')).toBeUndefined();

    await b.sync.restore('cards', 'c1', latest.version);
    await convergeAll(a, b);
    expect(await card(a, 'c1')).toEqual(values[4]);
    expect(await card(b, 'c1')).toEqual(values[4]);
    const [restored, deleted] = await a.sync.history('cards', 'c1');
    expect(deleted).toMatchObject({ op: 'delete', value: null });
    expect(restored).toMatchObject({ op: 'restore', restoredFrom: latest.version, value: values[4] });
  });

  it('refuses a version that is not in the record history and queues nothing', async () => {
    const { a, b } = await editedCard();
    const other = (await a.sync.history('cards', 'other'))[0]!;
    await expect(a.sync.restore('cards', 'c1', other.version)).rejects.toThrow(/not in its history/);
    await expect(a.sync.restore('cards', 'c1', 9999)).rejects.toThrow(/not in its history/);
    const hash = await convergeAll(a, b);
    expect(hash).toBe((await a.sync.serverHash('board:1')).hash);
    expect(await a.sync.history('cards', 'c1')).toHaveLength(5);
  });
});
