import { afterEach, describe, expect, it } from 'vitest';
import type { AuthHooks } from '../src/auth/auth.js';
import type { TestClient } from '@syncline/test-support/server';
import {
  appliedVersion,
  coll,
  Env,
  expectRejected,
  expectStatus,
  headOf,
  historyOf,
  recordOf,
  settle,
} from './helpers/scenario.js';

const A = 'team:a';
const B = 'team:b';
const aCards = coll(A, 'cards');
const aTags = coll(A, 'tags');
const bCards = coll(B, 'cards');
const bTags = coll(B, 'tags');

const env = new Env();
afterEach(() => env.stop());

/** Asserts that none of these records exists in any form (no record, no tombstone, no history). */
async function expectAbsent(client: TestClient, refs: readonly (readonly [string, string, string])[]) {
  for (const [scope, collection, id] of refs) {
    expect(await recordOf(client, scope, collection, id), `${scope}/${collection}/${id}`).toBeUndefined();
    expect(await historyOf(client, scope, collection, id), `${scope}/${collection}/${id}`).toEqual([]);
  }
}

describe('txn', () => {
  it('a member refused by a validation hook aborts every member, across collections and scopes', async () => {
    await env.start({
      collections: { cards: { validate: (v) => (v.title === 'bad' ? 'bad title' : undefined) } },
    });
    const writer = await env.connect('alice');
    const observer = await env.connect('bob');
    // Both scopes already have history, so a consumed version would show up as a gap.
    await writer.write(aCards.put('seed', 0, { title: 'seed' }), bTags.put('seed', 0, { name: 'seed' }));
    expect(await headOf(writer, A)).toBe(1);
    expect(await headOf(writer, B)).toBe(1);
    await observer.subscribe(A, B);

    const results = await writer.write(
      aCards.put('c1', 0, { title: 'ok' }, { txn: 't1' }),
      bTags.put('t1', 0, { name: 'x' }, { txn: 't1' }),
      aTags.put('t2', 0, { name: 'y' }, { txn: 't1' }),
      bCards.put('c2', 0, { title: 'bad' }, { txn: 't1' }),
      aCards.patch('seed', 1, { title: 'seed2' }, { txn: 't1' }),
    );
    expect(results).toHaveLength(5);
    const cause = expectRejected(results[3], 'validation_failed');
    expect(cause.message).toContain('bad title');
    for (const i of [0, 1, 2, 4]) {
      const error = expectRejected(results[i], 'txn_aborted');
      expect(error.retryable).toBe(false);
    }
    expect(results.map((r) => r.mid)).toEqual([3, 4, 5, 6, 7]);

    await expectAbsent(writer, [
      [A, 'cards', 'c1'],
      [B, 'tags', 't1'],
      [A, 'tags', 't2'],
      [B, 'cards', 'c2'],
    ]);
    expect(await recordOf(writer, A, 'cards', 'seed')).toMatchObject({
      version: 1,
      value: { title: 'seed' },
    });
    expect(await historyOf(writer, A, 'cards', 'seed')).toHaveLength(1);
    expect(await headOf(writer, A)).toBe(1);
    expect(await headOf(writer, B)).toBe(1);
    await settle(observer);
    expect(observer.changes).toEqual([]);

    // No version was consumed: the next writes continue at head + 1 in both scopes.
    const [ra, rb] = await writer.write(
      aCards.put('c3', 0, { title: 'next' }),
      bCards.put('c3', 0, { title: 'next' }),
    );
    expect(appliedVersion(ra)).toBe(2);
    expect(appliedVersion(rb)).toBe(2);
    const first = await observer.waitForChange((m) => m.scope === A);
    expect(first.after).toBe(1);
  });

  it('a member in a forbidden scope aborts the txn with forbidden; the rest get txn_aborted', async () => {
    const auth: AuthHooks = {
      authenticate: (h) => ({ id: h.token ?? 'anon' }),
      authorize: (_principal, scope, action) => !(scope === 'team:locked' && action === 'push'),
    };
    await env.start({ auth });
    const writer = await env.connect('alice');
    await writer.write(aCards.put('seed', 0, { title: 'seed' }));
    const locked = coll('team:locked', 'cards');

    const results = await writer.write(
      aCards.put('c1', 0, { title: 'x' }, { txn: 'tx-lock' }),
      bCards.put('c2', 0, { title: 'y' }, { txn: 'tx-lock' }),
      locked.put('c3', 0, { title: 'z' }, { txn: 'tx-lock' }),
    );
    expectRejected(results[0], 'txn_aborted');
    expectRejected(results[1], 'txn_aborted');
    expectRejected(results[2], 'forbidden');

    await expectAbsent(writer, [
      [A, 'cards', 'c1'],
      [B, 'cards', 'c2'],
      ['team:locked', 'cards', 'c3'],
    ]);
    expect(await headOf(writer, A)).toBe(1);
    expect(await headOf(writer, B)).toBe(0);
    expect(await headOf(writer, 'team:locked')).toBe(0);

    const [ra, rb] = await writer.write(
      aCards.put('c1', 0, { title: 'x' }),
      bCards.put('c2', 0, { title: 'y' }),
    );
    expect(appliedVersion(ra)).toBe(2);
    expect(appliedVersion(rb)).toBe(1);
  });

  it('a member hitting a manual conflict aborts the txn', async () => {
    await env.start({ collections: { tasks: { strategy: 'manual' } } });
    const writer = await env.connect('alice');
    const other = await env.connect('bob');
    const aTasks = coll(A, 'tasks');
    const base = appliedVersion((await other.write(aTasks.put('t1', 0, { title: 't' })))[0]);
    await other.write(aTasks.patch('t1', base, { title: 'changed by bob' }));

    const results = await writer.write(
      bCards.put('c1', 0, { title: 'x' }, { txn: 'tx-c' }),
      aTasks.patch('t1', base, { title: 'changed by alice' }, { txn: 'tx-c' }),
      aCards.put('c2', 0, { title: 'y' }, { txn: 'tx-c' }),
    );
    expectRejected(results[0], 'txn_aborted');
    const conflict = expectStatus(results[1], 'conflict');
    expect(conflict.record).toMatchObject({ version: 2, value: { title: 'changed by bob' } });
    expectRejected(results[2], 'txn_aborted');

    await expectAbsent(writer, [
      [B, 'cards', 'c1'],
      [A, 'cards', 'c2'],
    ]);
    expect(await headOf(writer, A)).toBe(2);
    expect(await headOf(writer, B)).toBe(0);
    expect(await historyOf(writer, A, 'tasks', 't1')).toHaveLength(2);
    expect(appliedVersion((await writer.write(bCards.put('c1', 0, { title: 'x' })))[0])).toBe(1);
  });

  it('an aborted txn leaves the push’s other mutations in place', async () => {
    await env.start({
      collections: { cards: { validate: (v) => (v.title === 'bad' ? 'bad title' : undefined) } },
    });
    const writer = await env.connect('alice');
    const results = await writer.write(
      aCards.put('before', 0, { title: 'ok' }),
      aCards.put('in1', 0, { title: 'ok' }, { txn: 'tx' }),
      aCards.put('in2', 0, { title: 'bad' }, { txn: 'tx' }),
      aCards.put('after', 0, { title: 'ok' }),
    );
    expect(appliedVersion(results[0])).toBe(1);
    expectRejected(results[1], 'txn_aborted');
    expectRejected(results[2], 'validation_failed');
    expect(appliedVersion(results[3])).toBe(2);
    await expectAbsent(writer, [
      [A, 'cards', 'in1'],
      [A, 'cards', 'in2'],
    ]);
  });

  it('a successful txn applies every member with consecutive versions and one broadcast per scope', async () => {
    await env.start();
    const writer = await env.connect('alice');
    const observer = await env.connect('bob');
    await writer.write(aCards.put('seed', 0, { title: 'seed' }));
    await observer.subscribe(A, B);

    const results = await writer.write(
      aCards.put('c1', 0, { title: '1' }, { txn: 'ok' }),
      bCards.put('c2', 0, { title: '2' }, { txn: 'ok' }),
      aTags.put('t1', 0, { name: '3' }, { txn: 'ok' }),
      bTags.put('t2', 0, { name: '4' }, { txn: 'ok' }),
      aCards.patch('seed', 1, { title: 'seed2' }, { txn: 'ok' }),
    );
    expect(results.map((r) => appliedVersion(r))).toEqual([2, 1, 3, 2, 4]);

    await settle(observer);
    const byScope = (scope: string) => observer.changes.filter((m) => m.scope === scope);
    expect(byScope(A)).toHaveLength(1);
    expect(byScope(B)).toHaveLength(1);
    expect(observer.changes).toHaveLength(2);
    const [msgA] = byScope(A);
    const [msgB] = byScope(B);
    expect(msgA?.after).toBe(1);
    expect(msgA?.changes.map((c) => [c.collection, c.id, c.version])).toEqual([
      ['cards', 'c1', 2],
      ['tags', 't1', 3],
      ['cards', 'seed', 4],
    ]);
    expect(msgB?.after).toBe(0);
    expect(msgB?.changes.map((c) => [c.collection, c.id, c.version, c.value])).toEqual([
      ['cards', 'c2', 1, { title: '2' }],
      ['tags', 't2', 2, { name: '4' }],
    ]);
    expect(await headOf(writer, A)).toBe(4);
    expect(await headOf(writer, B)).toBe(2);
  });
});
