import { describe, expect, it } from 'vitest';
import type { AppObject, Mutation } from '@syncline/protocol';
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

  it('lww: concurrent patches to different fields both survive, a put replaces the record', async () => {
    const lww = { strategy: 'lww' } as const;
    // The other side changed a (0 -> 1) and likes (3 -> 4) after this writer's base.
    const base = { a: 0, b: 0, likes: 3 };
    const current = { a: 1, b: 0, likes: 4 };
    const patch = await decide(
      input({ mutation: m({ op: 'patch', patch: { set: { b: 2 } } }), config: lww, base, current }),
    );
    expect(patch).toEqual({
      kind: 'write',
      value: { a: 1, b: 2, likes: 4 },
      resolved: { strategy: 'lww', overwritten: [] },
    });
    const both = await decide(
      input({ mutation: m({ op: 'patch', patch: { set: { a: 7 } } }), config: lww, base, current }),
    );
    expect(both).toMatchObject({ value: { a: 7, b: 0, likes: 4 }, resolved: { overwritten: ['a'] } });
    const put = await decide(
      input({ mutation: m({ op: 'put', value: { a: 0, b: 2, likes: 3 } }), config: lww, base, current }),
    );
    expect(put).toEqual({
      kind: 'write',
      value: { a: 0, b: 2, likes: 3 },
      resolved: { strategy: 'lww', overwritten: ['a', 'likes'] },
    });
    const unknownBase = await decide(
      input({
        mutation: m({ op: 'patch', patch: { set: { b: 2 } } }),
        config: lww,
        base: undefined,
        current,
      }),
    );
    expect(unknownBase).toMatchObject({ value: { a: 1, b: 2, likes: 4 }, resolved: { overwritten: ['b'] } });
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
      base: AppObject | null;
      current: AppObject | null;
      incoming: AppObject | null;
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
  it('hands a custom resolver decoded values and encodes what it returns', async () => {
    const at = (iso: string) => ({ $date: iso });
    let seen: AppObject | null = null;
    const d = await decide(
      input({
        current: { when: at('2024-01-01T00:00:00.000Z'), $$tag: 'x' },
        mutation: m({ op: 'patch', patch: { set: { when: at('2024-02-01T00:00:00.000Z') } } }),
        config: {
          strategy: (ctx) => {
            seen = ctx.current;
            const later = new Date((ctx.incoming!.when as Date).getTime() + 1000);
            return { action: 'write', value: { when: later, bytes: new Uint8Array([1]), $tag: 'y' } };
          },
        },
      }),
    );
    expect(seen).toEqual({ when: new Date('2024-01-01T00:00:00.000Z'), $tag: 'x' });
    expect(d).toMatchObject({
      kind: 'write',
      value: { when: at('2024-02-01T00:00:01.000Z'), bytes: { $bytes: 'AQ==' }, $$tag: 'y' },
    });
    const invalid = await decide(
      input({
        mutation: m({ op: 'put', value: {} }),
        config: { strategy: () => ({ action: 'write', value: { when: new Date(NaN) } }) },
      }),
    );
    expect(invalid).toMatchObject({ kind: 'reject', error: { code: 'validation_failed' } });
  });
});
