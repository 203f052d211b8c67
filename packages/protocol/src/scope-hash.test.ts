import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from './json.js';
import { ScopeHasher, scopeHash } from './scope-hash.js';

type Rec = { collection: string; id: string; value: JsonObject };

const records: Rec[] = [
  { collection: 'cards', id: 'c1', value: { title: 'one', tags: ['a', 'b'], meta: { n: 1, ok: true } } },
  { collection: 'cards', id: 'c2', value: { title: 'two' } },
  { collection: 'lists', id: 'l1', value: { name: 'todo', order: [3, 1, 2] } },
  { collection: 'lists', id: 'l2', value: {} },
];

const EMPTY = '0'.repeat(64);

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

describe('scopeHash', () => {
  it('is 64 lowercase hex characters and counts records', () => {
    const { hash, count } = scopeHash(records);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(count).toBe(4);
    expect(scopeHash([])).toEqual({ hash: EMPTY, count: 0 });
    expect(scopeHash(records.slice(0, 1)).count).toBe(1);
  });

  it('is sha256 of canonical [collection, id, value] for one record', () => {
    const value = { b: 2, a: { d: [1, { z: 0, y: null }], c: 'x' } };
    const canonical = '["cards","r1",{"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":2}]';
    const expected = createHash('sha256').update(canonical).digest('hex');
    expect(scopeHash([{ collection: 'cards', id: 'r1', value }]).hash).toBe(expected);
  });

  it('does not depend on record order', () => {
    const expected = scopeHash(records).hash;
    for (const p of permutations(records)) expect(scopeHash(p).hash).toBe(expected);
  });

  it('does not depend on key order inside values (canonical JSON)', () => {
    const a = scopeHash([{ collection: 'c', id: '1', value: { x: 1, y: { p: [1, 2], q: 'z' }, w: null } }]);
    const b = scopeHash([{ collection: 'c', id: '1', value: { w: null, y: { q: 'z', p: [1, 2] }, x: 1 } }]);
    expect(b.hash).toBe(a.hash);
    // Undefined properties are not content.
    const withUndefined = {
      x: 1,
      y: { p: [1, 2], q: 'z' },
      w: null,
      gone: undefined,
    } as unknown as JsonObject;
    expect(scopeHash([{ collection: 'c', id: '1', value: withUndefined }]).hash).toBe(a.hash);
  });

  it('changes with any difference in content', () => {
    const base = scopeHash(records).hash;
    const variants: Rec[][] = [
      records.slice(1),
      [...records.slice(0, 3), { collection: 'lists', id: 'l2', value: { x: 1 } }],
      [...records.slice(0, 3), { collection: 'lists', id: 'l3', value: {} }],
      [...records.slice(0, 3), { collection: 'other', id: 'l2', value: {} }],
      [{ ...records[0]!, value: { ...records[0]!.value, title: 'One' } }, ...records.slice(1)],
      [
        ...records.slice(0, 2),
        { collection: 'lists', id: 'l1', value: { name: 'todo', order: [1, 2, 3] } },
        records[3]!,
      ],
      [...records, { collection: 'cards', id: 'c3', value: {} }],
    ];
    const hashes = variants.map((v) => scopeHash(v).hash);
    for (const h of hashes) expect(h).not.toBe(base);
    expect(new Set(hashes).size).toBe(hashes.length);
    // The collection/id boundary is part of the content.
    expect(scopeHash([{ collection: 'ab', id: 'c', value: {} }]).hash).not.toBe(
      scopeHash([{ collection: 'a', id: 'bc', value: {} }]).hash,
    );
    // Types matter: 1 is not "1".
    expect(scopeHash([{ collection: 'c', id: '1', value: { n: 1 } }]).hash).not.toBe(
      scopeHash([{ collection: 'c', id: '1', value: { n: '1' } }]).hash,
    );
  });
});

describe('ScopeHasher', () => {
  it('matches scopeHash when records are added one by one', () => {
    const h = new ScopeHasher();
    expect(h.digest()).toBe(EMPTY);
    expect(h.count).toBe(0);
    for (const r of records) h.add(r.collection, r.id, r.value);
    expect(h.digest()).toBe(scopeHash(records).hash);
    expect(h.count).toBe(records.length);
  });

  it('returns to the previous hash after add then remove, in any order', () => {
    const h = new ScopeHasher();
    for (const r of records.slice(0, 2)) h.add(r.collection, r.id, r.value);
    const before = h.digest();
    h.add('lists', 'l1', records[2]!.value);
    h.add('lists', 'l2', records[3]!.value);
    expect(h.digest()).not.toBe(before);
    h.remove('lists', 'l1', records[2]!.value);
    expect(h.digest()).toBe(scopeHash([records[0]!, records[1]!, records[3]!]).hash);
    h.remove('lists', 'l2', records[3]!.value);
    expect(h.digest()).toBe(before);
    expect(h.count).toBe(2);
    h.remove('cards', 'c1', records[0]!.value);
    h.remove('cards', 'c2', records[1]!.value);
    expect(h.digest()).toBe(EMPTY);
    expect(h.count).toBe(0);
  });

  it('models an update as remove(old) + add(new)', () => {
    const h = new ScopeHasher();
    for (const r of records) h.add(r.collection, r.id, r.value);
    const updated = { title: 'two, edited' };
    h.remove('cards', 'c2', records[1]!.value);
    h.add('cards', 'c2', updated);
    expect(h.digest()).toBe(
      scopeHash([records[0]!, { ...records[1]!, value: updated }, records[2]!, records[3]!]).hash,
    );
    expect(h.count).toBe(records.length);
  });

  it('stays in range when removals come before additions (wraps modulo 2^256)', () => {
    const h = new ScopeHasher();
    h.remove('cards', 'c1', records[0]!.value);
    expect(h.digest()).toMatch(/^[0-9a-f]{64}$/);
    h.add('cards', 'c1', records[0]!.value);
    expect(h.digest()).toBe(EMPTY);
  });
});
