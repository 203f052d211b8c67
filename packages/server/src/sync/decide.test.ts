import { describe, expect, it } from 'vitest';
import type { JsonObject, Mutation } from '@syncline/protocol';
import { decide, type DecideInput } from './decide.js';

const m = (op: Partial<Mutation> & Pick<Mutation, 'op'>) =>
  ({ mid: 1, scope: 's', collection: 'c', id: 'r', base: 1, ...op }) as Exclude<Mutation, { op: 'restore' }>;

function input(over: Partial<DecideInput> & Pick<DecideInput, 'mutation'>): DecideInput {
  return { config: {}, current: { a: 1 }, concurrent: true, base: { a: 0 }, userId: 'u', ...over };
}

describe('decide', () => {
  it('applies non-concurrent mutations as sent', async () => {
    const d = await decide(input({ mutation: m({ op: 'put', value: { z: 1 } }), concurrent: false }));
    expect(d).toEqual({ kind: 'write', value: { z: 1 } });
  });

  it('rejects a patch of a missing record as not_found', async () => {
    const d = await decide(
      input({ mutation: m({ op: 'patch', patch: { set: { a: 2 } } }), concurrent: false, current: null }),
    );
    expect(d).toMatchObject({ kind: 'reject', error: { code: 'not_found' } });
  });

  it('merges inc under every strategy, and lets a concurrent delete win over it', async () => {
    for (const strategy of ['merge', 'lww', 'manual'] as const) {
      const d = await decide(input({ mutation: m({ op: 'inc', field: 'a', by: 2 }), config: { strategy } }));
      expect(d).toMatchObject({ kind: 'write', value: { a: 3 }, resolved: { strategy: 'merge' } });
    }
    const gone = await decide(input({ mutation: m({ op: 'inc', field: 'a', by: 2 }), current: null }));
    expect(gone).toEqual({ kind: 'keep', strategy: 'merge' });
  });

  it('refuses inc on a non-numeric field', async () => {
    const d = await decide(input({ mutation: m({ op: 'inc', field: 'a', by: 1 }), current: { a: 'x' } }));
    expect(d).toMatchObject({ kind: 'reject', error: { code: 'invalid_inc' } });
  });

  it('lets delete win over a concurrent update unless manual', async () => {
    const upd = m({ op: 'put', value: { a: 5 } });
    expect(await decide(input({ mutation: upd, current: null }))).toEqual({
      kind: 'keep',
      strategy: 'merge',
    });
    expect(await decide(input({ mutation: upd, current: null, config: { strategy: 'lww' } }))).toEqual({
      kind: 'keep',
      strategy: 'lww',
    });
    expect(await decide(input({ mutation: upd, current: null, config: { strategy: 'manual' } }))).toEqual({
      kind: 'conflict',
    });
    const del = await decide(input({ mutation: m({ op: 'delete' }) }));
    expect(del).toMatchObject({ kind: 'write', value: null, resolved: { strategy: 'merge' } });
  });

  it('flags patch fields the other side also changed', async () => {
    const d = await decide(
      input({
        mutation: m({ op: 'patch', patch: { set: { a: 9, b: 1 } } }),
        current: { a: 1 },
        base: { a: 0 },
      }),
    );
    expect(d).toEqual({
      kind: 'write',
      value: { a: 9, b: 1 },
      resolved: { strategy: 'merge', overwritten: ['a'] },
    });
  });

  it('passes base, current and incoming to a custom resolver and honours its decision', async () => {
    const seen: unknown[] = [];
    const strategy = (ctx: {
      base: JsonObject | null;
      current: JsonObject | null;
      incoming: JsonObject | null;
    }) => {
      seen.push([ctx.base, ctx.current, ctx.incoming]);
      return { action: 'write' as const, value: { a: 100 } };
    };
    const d = await decide(
      input({ mutation: m({ op: 'patch', patch: { set: { b: 2 } } }), config: { strategy } }),
    );
    expect(seen).toEqual([[{ a: 0 }, { a: 1 }, { a: 0, b: 2 }]]);
    expect(d).toMatchObject({ kind: 'write', value: { a: 100 }, resolved: { strategy: 'custom' } });
    const rejecting = await decide(
      input({
        mutation: m({ op: 'put', value: {} }),
        config: { strategy: () => ({ action: 'reject', message: 'no' }) },
      }),
    );
    expect(rejecting).toMatchObject({ kind: 'reject', error: { code: 'validation_failed', message: 'no' } });
    const throwing = await decide(
      input({
        mutation: m({ op: 'put', value: {} }),
        config: {
          strategy: () => {
            throw new Error('boom');
          },
        },
      }),
    );
    expect(throwing).toMatchObject({ kind: 'reject', error: { code: 'validation_failed' } });
  });
});
