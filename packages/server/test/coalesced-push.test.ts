import { afterEach, describe, expect, it } from 'vitest';
import { asMid, type Mutation } from '@syncline/protocol';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';
import { expectError } from './helpers/bad-input.js';

let running: RunningServer;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
});

const SCOPE = 'team:coalesce';
const record = { scope: SCOPE, collection: 'notes', id: 'n1' } as const;

async function connect(opts: Parameters<typeof startServer>[0] = {}) {
  running = await startServer(opts);
  const c = await TestClient.connect(running.url);
  clients.push(c);
  return c;
}

/** `m` covering its own mid up to `to` (protocol 5), as a client coalescing a run sends it. */
const covering = (m: Mutation, to: number): Mutation => ({ ...m, midTo: asMid(to) });

async function pullAll(c: TestClient) {
  const res = await c.pull(SCOPE, 0, 1000);
  if (!res.ok) throw new Error(res.error.code);
  return res;
}

/** Mids 1 (the put) and 2–6: five edits, sent coalesced as one inc covering 2–6. */
async function setUp(c: TestClient) {
  await c.write({ ...record, op: 'put', base: 0, value: { likes: 0 } });
  const edits = c.mutations(
    ...Array.from({ length: 5 }, () => ({ ...record, op: 'inc', base: 1, field: 'likes', by: 1 }) as const),
  );
  const merged = covering({ ...edits[0]!, by: 5 } as Mutation, 6);
  return { edits, merged };
}

describe('a coalesced mutation (mid … midTo)', () => {
  it('applies as one version whose change names its last mid, and moves the last mid past it', async () => {
    const c = await connect();
    const { merged } = await setUp(c);
    const res = await c.push([merged]);
    expect(res.ok && res.results).toEqual([{ mid: 2, status: 'applied', version: 2 }]);
    const pulled = await pullAll(c);
    expect(pulled.head).toBe(2);
    expect(pulled.changes.map((ch) => [ch.version, ch.mid, ch.value])).toEqual([[2, 6, { likes: 5 }]]);
    const history = await c.history({ ...record });
    expect(history.ok && history.entries.map((e) => [e.version, e.op, e.mid])).toEqual([
      [2, 'inc', 6],
      [1, 'put', 1],
    ]);
    // The next mid is 7: 7 applies, and a push starting at 9 is a gap.
    const [next] = c.mutations({ ...record, op: 'inc', base: 2, field: 'likes', by: 1 });
    const after = await c.push([next!]);
    expect(after.ok && after.results[0]).toMatchObject({ mid: 7, status: 'applied' });
    const gap = await c.push([{ ...next!, mid: asMid(9) }]);
    expectError(gap, 'mid_gap');
  });

  it('is a duplicate when re-sent, whole or cut differently, and applies nothing again', async () => {
    const c = await connect();
    const { edits, merged } = await setUp(c);
    await c.push([merged]);
    const again = await c.push([merged]);
    expect(again.ok && again.results).toEqual([{ mid: 2, status: 'duplicate' }]);
    const recut = await c.push([
      covering({ ...edits[0]!, by: 3 } as Mutation, 4),
      covering({ ...edits[3]!, by: 2 } as Mutation, 6),
    ]);
    expect(recut.ok && recut.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    const single = await c.push(edits);
    expect(single.ok && single.results.every((r) => r.status === 'duplicate')).toBe(true);
    const pulled = await pullAll(c);
    expect(pulled.head).toBe(2);
    expect(pulled.changes[0]?.value).toEqual({ likes: 5 });
  });

  it('refuses a push whose coalesced mutation straddles the last applied mid, applying nothing', async () => {
    const c = await connect();
    const { edits } = await setUp(c);
    // Mids 2–4 applied one by one (the ack was lost), then a resend coalesces 2–6.
    await c.push(edits.slice(0, 3));
    const res = await c.push([covering({ ...edits[0]!, by: 5 } as Mutation, 6)]);
    expectError(res, 'mid_overlap');
    expect(!res.ok && res.error.details).toEqual({ expectedMid: 5 });
    expect((await pullAll(c)).head).toBe(4);
    // Cut at the boundary, the resend applies only what was missing.
    const fixed = await c.push([
      covering({ ...edits[0]!, by: 3 } as Mutation, 4),
      covering({ ...edits[3]!, by: 2 } as Mutation, 6),
    ]);
    expect(fixed.ok && fixed.results.map((r) => r.status)).toEqual(['duplicate', 'applied']);
    const pulled = await pullAll(c);
    expect(pulled.head).toBe(5);
    expect(pulled.changes.at(-1)?.value).toEqual({ likes: 5 });
  });

  it('refuses ranges that are empty or leave holes between mutations', async () => {
    const c = await connect();
    const { edits } = await setUp(c);
    expectError(await c.push([covering(edits[0]!, 2)]), 'invalid_batch');
    expectError(await c.push([covering(edits[0]!, 3), edits[3]!]), 'invalid_batch');
    expectError(await c.push([covering(edits[0]!, 4), edits[3]!, edits[3]!]), 'invalid_batch');
    expect((await pullAll(c)).head).toBe(1);
  });

  it('commits a coalesced member of a txn with the rest of it', async () => {
    const c = await connect();
    const [put1, put2, patch2] = c.mutations(
      { ...record, op: 'put', base: 0, value: { a: 1 }, txn: 't1' },
      { ...record, id: 'n2', op: 'put', base: 0, value: { b: 1 }, txn: 't1' },
      { ...record, id: 'n2', op: 'patch', base: 0, patch: { set: { b: 2 } }, txn: 't1' },
    );
    const merged = covering({ ...put2!, value: { b: 2 } } as Mutation, patch2!.mid);
    const res = await c.push([put1!, merged]);
    expect(res.ok && res.results.map((r) => r.status)).toEqual(['applied', 'applied']);
    expect((await pullAll(c)).changes.map((ch) => [ch.id, ch.value, ch.mid])).toEqual([
      ['n1', { a: 1 }, 1],
      ['n2', { b: 2 }, 3],
    ]);
  });

  it('undoes the whole push when the server refuses a coalesced mutation, so its edits go one by one', async () => {
    const validate = (value: Record<string, unknown>) =>
      value['title'] === 'bad' ? 'no bad titles' : undefined;
    const c = await connect({ collections: { notes: { validate } } });
    const [put, bad, good] = c.mutations(
      { ...record, op: 'put', base: 0, value: { title: 'ok' } },
      { ...record, op: 'patch', base: 0, patch: { set: { title: 'bad' } } },
      { ...record, op: 'patch', base: 0, patch: { set: { status: 'done' } } },
    );
    const merged = covering({ ...put!, value: { title: 'bad', status: 'done' } } as Mutation, good!.mid);
    const refused = await c.push([merged]);
    expectError(refused, 'split_required');
    expect(!refused.ok && refused.error.details).toEqual({ mid: 1, midTo: 3 });
    // Nothing applied, no mid consumed: the same mids go again, one per mutation.
    expect((await pullAll(c)).head).toBe(0);
    const singles = await c.push([put!, bad!, good!]);
    expect(singles.ok && singles.results.map((r) => [r.mid, r.status])).toEqual([
      [1, 'applied'],
      [2, 'rejected'],
      [3, 'applied'],
    ]);
    expect((await pullAll(c)).changes.at(-1)?.value).toEqual({ title: 'ok', status: 'done' });
  });
});
