import { describe, expect, it } from 'vitest';
import {
  applyMutation,
  encodeRecord,
  MutationSchema,
  syncError,
  type JsonObject,
  type JsonValue,
  type Mutation,
  type Patch,
} from '@syncline/protocol';
import { mulberry32 } from '@syncline/test-support';
import type { OutboxEntry } from '../store/schema.js';
import { coalesce, mergeTwo, spansOf } from './coalesce.js';
import { apartAfter } from './push-decisions.js';
import { mergePatches } from './merge-patches.js';

type Draft =
  | { op: 'put'; value: JsonObject }
  | { op: 'patch'; patch: Patch }
  | { op: 'delete' }
  | { op: 'inc'; field: string; by: number }
  | { op: 'restore'; version: number };

/** A valid wire mutation of record `id` (checked by the schema, so the tests send real shapes). */
function mut(mid: number, draft: Draft, extra: { id?: string; base?: number; txn?: string } = {}): Mutation {
  return MutationSchema.parse({
    mid,
    scope: 'board:1',
    collection: 'cards',
    id: extra.id ?? 'c1',
    base: extra.base ?? 3,
    ...(extra.txn !== undefined ? { txn: extra.txn } : {}),
    ...draft,
  });
}

function entry(m: Mutation, discarded = false): OutboxEntry {
  return {
    mid: m.mid,
    table: 'cards',
    key: m.id,
    mutation: m,
    createdAt: 0,
    ...(discarded ? { discarded } : {}),
  };
}

const entries = (...ms: Mutation[]) => ms.map((m) => entry(m));

/**
 * What the server ends with applying `ms` one by one on `current`: a mutation that cannot apply
 * (a patch of a missing record) is rejected and changes nothing, as `applyPush` does.
 */
function sequential(current: JsonObject | null, ms: readonly Mutation[]): JsonObject | null {
  let value = current;
  for (const m of ms) {
    if (m.op === 'restore') throw new Error('not in these tests');
    const out = applyMutation(value, m);
    if (out.ok) value = out.value;
  }
  return value;
}

/** Record states the equivalence checks run on: absent, empty, scalars, nesting, a tag. */
const STATES: (JsonObject | null)[] = [
  null,
  {},
  { a: 1, d: 'x' },
  { a: { b: 2, c: 3 }, d: [1, 2] },
  { a: { b: { c: 4, e: 5 } } },
  { a: 'text', likes: 2 },
  { a: { b: 1 }, when: { $date: '2024-01-01T00:00:00.000Z' } },
];

/** Asserts that `merged` has the effect of `ms` in turn on every state. */
function expectEquivalent(merged: Mutation, ms: readonly Mutation[]): void {
  for (const state of STATES)
    expect(sequential(state, [merged]), JSON.stringify(state)).toEqual(sequential(state, ms));
}

describe('mergePatches', () => {
  const cases: [string, Patch, Patch, Patch][] = [
    ['disjoint fields add up', { set: { a: 1 } }, { set: { d: 2 } }, { set: { a: 1, d: 2 } }],
    ['a later set of the same path wins', { set: { a: 1 } }, { set: { a: 2 } }, { set: { a: 2 } }],
    [
      'a later set above overrides entries below',
      { set: { 'a.b': 1, 'a.c': 2 } },
      { set: { a: {} } },
      { set: { a: {} } },
    ],
    [
      'a later unset overrides a set',
      { set: { a: 1, d: 1 } },
      { unset: ['a'] },
      { set: { d: 1 }, unset: ['a'] },
    ],
    ['a later set overrides an unset', { unset: ['a'] }, { set: { a: 3 } }, { set: { a: 3 } }],
    [
      'a set below an earlier set folds into its value',
      { set: { a: { b: 1, c: 2 } } },
      { set: { 'a.b': 9 } },
      { set: { a: { b: 9, c: 2 } } },
    ],
    [
      'a set below an earlier scalar set replaces it with an object',
      { set: { a: 5 } },
      { set: { 'a.b': 1 } },
      { set: { a: { b: 1 } } },
    ],
    [
      'an unset below an earlier set folds into its value',
      { set: { a: { b: 1, c: 2 } } },
      { unset: ['a.b'] },
      { set: { a: { c: 2 } } },
    ],
    [
      'an unset below an earlier scalar set changes nothing',
      { set: { a: 5 } },
      { unset: ['a.b'] },
      { set: { a: 5 } },
    ],
    [
      'a set below an earlier unset sets a fresh object',
      { unset: ['a'] },
      { set: { 'a.b.c': 1 } },
      { set: { a: { b: { c: 1 } } } },
    ],
    [
      'an unset below an earlier unset is already done',
      { unset: ['a'] },
      { unset: ['a.b'] },
      { unset: ['a'] },
    ],
    [
      'a top-level unset overrides sets below it',
      { set: { 'a.b': 1, d: 1 } },
      { unset: ['a'] },
      { set: { d: 1 }, unset: ['a'] },
    ],
  ];
  for (const [name, first, second, expected] of cases) {
    it(name, () => {
      const merged = mergePatches(first, second);
      expect(merged).toEqual(expected);
      expectEquivalent(mut(1, { op: 'patch', patch: merged! }), [
        mut(1, { op: 'patch', patch: first }),
        mut(2, { op: 'patch', patch: second }),
      ]);
    });
  }

  it('keeps the server order inside one patch (sets before unsets)', () => {
    const first: Patch = { set: { 'a.b': 1 }, unset: ['a'] };
    const merged = mergePatches(first, { set: { d: 1 } });
    expectEquivalent(mut(1, { op: 'patch', patch: merged! }), [
      mut(1, { op: 'patch', patch: first }),
      mut(2, { op: 'patch', patch: { set: { d: 1 } } }),
    ]);
    expect(merged).toEqual({ set: { d: 1 }, unset: ['a'] });
  });

  it('refuses a nested unset over a set (the objects the set created would stay)', () => {
    // On {}: set a.c creates a, unset a.c leaves a = {}; a lone unset a.c would not create it.
    expect(mergePatches({ set: { 'a.c': 1 } }, { unset: ['a.c'] })).toBeUndefined();
    expect(mergePatches({ set: { 'a.b.c': 1 } }, { unset: ['a.b'] })).toBeUndefined();
  });

  it('refuses to fold a set into a tag', () => {
    const date = encodeRecord({ when: new Date(0) });
    if (!date.ok) throw new Error('encode');
    expect(mergePatches({ set: { when: date.value['when']! } }, { set: { 'when.x': 1 } })).toBeUndefined();
  });

  it('refuses bad key paths and more unsets than a patch may carry', () => {
    expect(mergePatches({ set: { 'a..b': 1 } }, { set: { d: 1 } })).toBeUndefined();
    const many = (from: number) => Array.from({ length: 600 }, (_, i) => `f${from + i}`);
    expect(mergePatches({ unset: many(0) }, { unset: many(600) })).toBeUndefined();
  });

  it('is equivalent to applying both patches in turn, on random patches and states', () => {
    const rand = mulberry32(1515);
    const paths = ['a', 'a.b', 'a.c', 'a.b.c', 'a.b.e', 'd', 'd.x'];
    const values: JsonValue[] = [1, 'x', null, [1], {}, { b: 7 }, { c: { e: 1 } }];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const randomPatch = (): Patch => {
      const set: Record<string, JsonValue> = {};
      const unset: string[] = [];
      const n = 1 + Math.floor(rand() * 3);
      for (let i = 0; i < n; i++) {
        if (rand() < 0.6) set[pick(paths)] = pick(values);
        else unset.push(pick(paths));
      }
      return { ...(Object.keys(set).length > 0 ? { set } : {}), ...(unset.length > 0 ? { unset } : {}) };
    };
    let refused = 0;
    for (let round = 0; round < 400; round++) {
      const patches = [randomPatch(), randomPatch(), randomPatch()];
      let merged: Patch | undefined = patches[0];
      for (const p of patches.slice(1)) merged = merged && mergePatches(merged, p);
      if (merged === undefined) {
        refused++;
        continue;
      }
      expectEquivalent(
        mut(1, { op: 'patch', patch: merged }),
        patches.map((p, i) => mut(i + 1, { op: 'patch', patch: p })),
      );
    }
    // Refusals (a nested unset over a set) are the exception, not the rule.
    expect(refused).toBeLessThan(200);
  });
});

describe('mergeTwo', () => {
  const put = (mid: number, value: JsonObject) => mut(mid, { op: 'put', value });
  const patch = (mid: number, p: Patch) => mut(mid, { op: 'patch', patch: p });
  const inc = (mid: number, by: number, field = 'likes') => mut(mid, { op: 'inc', field, by });
  const del = (mid: number) => mut(mid, { op: 'delete' });

  it('turns a put followed by a patch into a put of the patched value', () => {
    const merged = mergeTwo(put(1, { a: 1, likes: 0 }), patch(2, { set: { a: 2 }, unset: ['likes'] }));
    expect(merged).toMatchObject({ op: 'put', mid: 1, base: 3, value: { a: 2 } });
    expectEquivalent(merged!, [put(1, { a: 1, likes: 0 }), patch(2, { set: { a: 2 }, unset: ['likes'] })]);
  });

  it('lets a later put replace an earlier put or patch', () => {
    expect(mergeTwo(put(1, { a: 1 }), put(2, { b: 2 }))).toMatchObject({
      op: 'put',
      mid: 1,
      value: { b: 2 },
    });
    expect(mergeTwo(patch(1, { set: { a: 1 } }), put(2, { b: 2 }))).toMatchObject({
      op: 'put',
      value: { b: 2 },
    });
  });

  it('lets a delete win over a put or patch before it, keeping the first base', () => {
    for (const first of [put(1, { a: 1 }), patch(1, { set: { a: 1 } })]) {
      const merged = mergeTwo(first, del(2));
      expect(merged).toEqual({
        mid: 1,
        scope: 'board:1',
        collection: 'cards',
        id: 'c1',
        base: 3,
        op: 'delete',
      });
      expectEquivalent(merged!, [first, del(2)]);
    }
  });

  it('merges nothing after a delete', () => {
    expect(mergeTwo(del(1), put(2, { a: 1 }))).toBeUndefined();
    expect(mergeTwo(del(1), patch(2, { set: { a: 1 } }))).toBeUndefined();
    expect(mergeTwo(del(1), del(2))).toBeUndefined();
  });

  it('adds whole increments of one field', () => {
    const merged = mergeTwo(inc(1, 2), inc(2, -5));
    expect(merged).toMatchObject({ op: 'inc', field: 'likes', by: -3 });
    expectEquivalent(merged!, [inc(1, 2), inc(2, -5)]);
  });

  it('keeps fractional increments, other fields and overflowing sums apart', () => {
    expect(mergeTwo(inc(1, 0.1), inc(2, 0.2))).toBeUndefined();
    expect(mergeTwo(inc(1, 1), inc(2, 1, 'views'))).toBeUndefined();
    expect(mergeTwo(inc(1, Number.MAX_SAFE_INTEGER), inc(2, 1))).toBeUndefined();
  });

  it('never merges an inc with another op', () => {
    expect(mergeTwo(inc(1, 1), patch(2, { set: { a: 1 } }))).toBeUndefined();
    expect(mergeTwo(patch(1, { set: { a: 1 } }), inc(2, 1))).toBeUndefined();
    expect(mergeTwo(put(1, { likes: 1 }), inc(2, 1))).toBeUndefined();
    expect(mergeTwo(inc(1, 1), del(2))).toBeUndefined();
  });

  it('never merges a restore', () => {
    const restore = (mid: number) => mut(mid, { op: 'restore', version: 2 });
    expect(mergeTwo(restore(1), put(2, { a: 1 }))).toBeUndefined();
    expect(mergeTwo(put(1, { a: 1 }), restore(2))).toBeUndefined();
  });

  it('merges only one record, one base, one txn', () => {
    const p = { op: 'patch', patch: { set: { a: 1 } } } as const;
    expect(mergeTwo(mut(1, p), mut(2, p, { id: 'c2' }))).toBeUndefined();
    expect(mergeTwo(mut(1, p), mut(2, p, { base: 4 }))).toBeUndefined();
    expect(mergeTwo(mut(1, p, { txn: 't1' }), mut(2, p))).toBeUndefined();
    expect(mergeTwo(mut(1, p), mut(2, p, { txn: 't1' }))).toBeUndefined();
    expect(mergeTwo(mut(1, p, { txn: 't1' }), mut(2, p, { txn: 't2' }))).toBeUndefined();
    expect(mergeTwo(mut(1, p, { txn: 't1' }), mut(2, p, { txn: 't1' }))).toMatchObject({ txn: 't1' });
  });

  it('refuses a patched put value that is not a valid record', () => {
    const date = encodeRecord({ when: new Date(0) });
    if (!date.ok) throw new Error('encode');
    expect(mergeTwo(put(1, date.value), patch(2, { set: { 'when.x': 1 } }))).toBeUndefined();
  });
});

describe('coalesce', () => {
  const p = (mid: number, set: Record<string, JsonValue>, extra?: { id?: string; txn?: string }) =>
    mut(mid, { op: 'patch', patch: { set } }, extra);

  it('collapses five edits of a record into one mutation covering their mids', () => {
    const batch = entries(
      mut(1, { op: 'put', value: { title: 'a', seq: 0 } }),
      ...[2, 3, 4, 5].map((mid) => p(mid, { seq: mid, title: `t${mid}` })),
    );
    const out = coalesce(batch);
    expect(out).toEqual([
      {
        mid: 1,
        midTo: 5,
        scope: 'board:1',
        collection: 'cards',
        id: 'c1',
        base: 3,
        op: 'put',
        value: { title: 't5', seq: 5 },
      },
    ]);
    expect(spansOf(out)).toEqual(new Map([[1, 5]]));
  });

  it('merges only consecutive runs: an edit of another record in between stops the run', () => {
    const out = coalesce(
      entries(p(1, { a: 1 }), p(2, { a: 2 }), p(3, { a: 1 }, { id: 'c2' }), p(4, { a: 3 })),
    );
    expect(out.map((m) => [m.id, m.mid, m.midTo])).toEqual([
      ['c1', 1, 2],
      ['c2', 3, undefined],
      ['c1', 4, undefined],
    ]);
  });

  it('keeps txn groups apart from each other and from plain mutations', () => {
    const out = coalesce(
      entries(p(1, { a: 1 }), p(2, { a: 2 }, { txn: 't' }), p(3, { a: 3 }, { txn: 't' }), p(4, { a: 4 })),
    );
    expect(out.map((m) => [m.mid, m.midTo, m.txn])).toEqual([
      [1, undefined, undefined],
      [2, 3, 't'],
      [4, undefined, undefined],
    ]);
  });

  it('starts a new run where a pair does not merge and goes on merging after it', () => {
    const inc = (mid: number) => mut(mid, { op: 'inc', field: 'likes', by: 1 });
    const out = coalesce(entries(inc(1), inc(2), p(3, { a: 1 }), p(4, { a: 2 }), inc(5), inc(6), inc(7)));
    expect(out.map((m) => [m.op, m.mid, m.midTo])).toEqual([
      ['inc', 1, 2],
      ['patch', 3, 4],
      ['inc', 5, 7],
    ]);
    expect(out[2]).toMatchObject({ by: 3 });
  });

  it('never merges across the boundary a mid_overlap named', () => {
    const batch = entries(p(1, { a: 1 }), p(2, { a: 2 }), p(3, { a: 3 }), p(4, { a: 4 }));
    expect(coalesce(batch, new Set([3])).map((m) => [m.mid, m.midTo])).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('sends discarded placeholders as they are', () => {
    const placeholder = mut(2, { op: 'restore', version: Number.MAX_SAFE_INTEGER });
    const out = coalesce([entry(p(1, { a: 1 })), entry(placeholder, true), entry(p(3, { a: 1 }))]);
    expect(out).toEqual([p(1, { a: 1 }), placeholder, p(3, { a: 1 })]);
  });

  it('leaves a batch without runs unchanged', () => {
    const batch = entries(p(1, { a: 1 }), p(2, { a: 1 }, { id: 'c2' }));
    expect(coalesce(batch)).toEqual(batch.map((e) => e.mutation));
    expect(spansOf(coalesce(batch)).size).toBe(0);
  });
});

describe('apartAfter: what a refused push teaches the next cut', () => {
  it('splits at the expected mid after mid_overlap, and every mid of a refused coalesced mutation', () => {
    expect(apartAfter(syncError('mid_overlap', 'x', { expectedMid: 7 }))).toEqual([7]);
    expect(apartAfter(syncError('split_required', 'x', { mid: 3, midTo: 6 }))).toEqual([4, 5, 6]);
    const patch = (mid: number, set: Record<string, number>) => mut(mid, { op: 'patch', patch: { set } });
    const batch = entries(patch(3, { a: 1 }), patch(4, { b: 1 }), patch(5, { c: 1 }), patch(6, { d: 1 }));
    expect(coalesce(batch)).toHaveLength(1);
    const apart = new Set(apartAfter(syncError('split_required', 'x', { mid: 3, midTo: 6 })));
    expect(coalesce(batch, apart).map((m) => [m.mid, m.midTo])).toEqual([
      [3, undefined],
      [4, undefined],
      [5, undefined],
      [6, undefined],
    ]);
  });

  it('learns nothing from other errors or from details that are not mids', () => {
    expect(apartAfter(syncError('mid_gap', 'x', { expectedMid: 7 }))).toEqual([]);
    expect(apartAfter(syncError('split_required', 'x', { mid: '3', midTo: 6 }))).toEqual([]);
    expect(apartAfter(syncError('mid_overlap', 'x'))).toEqual([]);
  });
});
