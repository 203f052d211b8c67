import { describe, expect, it } from 'vitest';
import { changedKeys, inspectJson, type InspectResult } from './json.js';

const roomy = { maxDepth: 1_000_000, maxBytes: Number.MAX_SAFE_INTEGER };

function ok(value: unknown, limits = roomy): { bytes: number; depth: number } {
  const r = inspectJson(value, limits);
  if (!r.ok) throw new Error(`expected ok, got ${r.code} at ${r.path}: ${r.message}`);
  return r;
}

function failure(value: unknown, limits = roomy): Extract<InspectResult, { ok: false }> {
  const r = inspectJson(value, limits);
  if (r.ok) throw new Error(`expected a failure, got ok (${r.bytes} bytes, depth ${r.depth})`);
  return r;
}

/** An object nested `depth` levels (`{}` is 1), built iteratively. */
function nestedObject(depth: number): object {
  let v: object = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

function nestedArray(depth: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

describe('inspectJson: depth', () => {
  it('counts each object or array level, and primitives as depth 0', () => {
    expect(ok(1).depth).toBe(0);
    expect(ok('s').depth).toBe(0);
    expect(ok(null).depth).toBe(0);
    expect(ok({}).depth).toBe(1);
    expect(ok([]).depth).toBe(1);
    expect(ok({ a: 1, b: 'x' }).depth).toBe(1);
    expect(ok({ a: {} }).depth).toBe(2);
    expect(ok([[[]]]).depth).toBe(3);
    expect(ok({ a: [{ b: [1] }] }).depth).toBe(4);
    // The deepest branch counts, wherever it is.
    expect(ok({ shallow: 1, deep: { x: { y: {} } }, mid: [1] }).depth).toBe(4);
    expect(ok([1, [2, [3, [4]]], 5]).depth).toBe(4);
  });

  it('accepts exactly maxDepth and refuses one more with too_deep', () => {
    for (const make of [nestedObject, nestedArray]) {
      expect(ok(make(32), { ...roomy, maxDepth: 32 }).depth).toBe(32);
      const r = failure(make(33), { ...roomy, maxDepth: 32 });
      expect(r.code).toBe('too_deep');
      expect(r.message).toMatch(/32/);
    }
    expect(failure({ a: { b: 1 } }, { ...roomy, maxDepth: 1 })).toMatchObject({
      code: 'too_deep',
      path: '$.a',
    });
  });

  it('walks a 100,000-deep value without throwing', () => {
    const deepObject = nestedObject(100_000);
    const deepArray = nestedArray(100_000);
    expect(() => inspectJson(deepObject, roomy)).not.toThrow();
    expect(ok(deepObject).depth).toBe(100_000);
    expect(ok(deepArray).depth).toBe(100_000);
    expect(failure(deepObject, { ...roomy, maxDepth: 32 }).code).toBe('too_deep');
    expect(failure(deepArray, { ...roomy, maxDepth: 32 }).code).toBe('too_deep');
  });
});

describe('inspectJson: bytes', () => {
  const plain: unknown[] = [
    null,
    true,
    false,
    0,
    -0,
    7,
    -42,
    3.25,
    -0.001,
    1e21,
    1.5e-7,
    Number.MAX_SAFE_INTEGER,
    '',
    'hello world',
    {},
    [],
    [1],
    [1, 2, 3],
    [[], {}, [[]]],
    { a: 1 },
    { a: 1, b: 'two', c: null, d: true },
    { nested: { list: [1, 'x', { y: false }], empty: {} }, n: -12.5 },
    [{ a: [] }, { b: {} }, null, 'z'],
    { 'key with spaces': 'value', k2: [0, 0.5, 100] },
  ];

  it('equals JSON.stringify(x).length for plain ASCII values', () => {
    for (const v of plain) expect(ok(v).bytes, JSON.stringify(v)).toBe(JSON.stringify(v).length);
  });

  it('skips undefined object properties as JSON does', () => {
    for (const v of [
      { a: undefined, b: 1 },
      { a: 1, b: undefined },
      { a: undefined },
      { x: { y: undefined, z: [1] } },
    ]) {
      expect(ok(v).bytes, JSON.stringify(v)).toBe(JSON.stringify(v).length);
    }
  });

  it('equals JSON.stringify(x).length for ASCII strings and keys that JSON escapes', () => {
    // json.ts: "`bytes` is the length of its JSON encoding in UTF-16 code units".
    for (const v of ['say "hi"', 'back\\slash', 'line\nbreak\ttab', '\u0001', { 'a"b': 1 }, { s: '\\"\n' }]) {
      expect(ok(v).bytes, JSON.stringify(v)).toBe(JSON.stringify(v).length);
    }
  });

  it('accepts exactly maxBytes and refuses one more with payload_too_large', () => {
    const v = { s: 'x'.repeat(100) };
    const size = JSON.stringify(v).length;
    expect(ok(v, { ...roomy, maxBytes: size }).bytes).toBe(size);
    expect(failure(v, { ...roomy, maxBytes: size - 1 }).code).toBe('payload_too_large');
    expect(
      failure(
        Array.from({ length: 1000 }, () => 1),
        { ...roomy, maxBytes: 100 },
      ).code,
    ).toBe('payload_too_large');
  });
});

describe('inspectJson: forbidden keys', () => {
  it('refuses __proto__, constructor and prototype at any level, with the path', () => {
    const proto: unknown = JSON.parse('{"__proto__": {"x": 1}}');
    expect(Object.keys(proto as object)).toEqual(['__proto__']);
    expect(failure(proto)).toMatchObject({ code: 'forbidden_key', path: '$' });
    expect(failure({ constructor: 1 })).toMatchObject({ code: 'forbidden_key' });
    expect(failure({ prototype: 'x' })).toMatchObject({ code: 'forbidden_key' });
    expect(failure({ a: { b: { constructor: {} } } })).toMatchObject({
      code: 'forbidden_key',
      path: '$.a.b',
    });
    expect(failure({ list: [1, { prototype: 1 }] })).toMatchObject({
      code: 'forbidden_key',
      path: '$.list[1]',
    });
    expect(failure({ deep: [JSON.parse('{"ok": 1, "__proto__": null}')] }).code).toBe('forbidden_key');
    const nullProto = Object.create(null) as Record<string, unknown>;
    nullProto['__proto__'] = 1;
    expect(failure(nullProto).code).toBe('forbidden_key');
  });

  it('allows look-alike keys and forbidden words as values', () => {
    expect(ok({ proto: 1, __proto: 2, Constructor: 3, prototypes: 4, _constructor_: 5 }).depth).toBe(1);
    expect(ok({ a: '__proto__', b: ['constructor', 'prototype'] }).depth).toBe(2);
    expect(ok(Object.assign(Object.create(null) as object, { a: 1 })).depth).toBe(1);
  });
});

describe('inspectJson: values that are not JSON', () => {
  it('refuses non-finite numbers', () => {
    for (const n of [NaN, Infinity, -Infinity]) {
      expect(failure(n).code).toBe('invalid_value');
      expect(failure({ a: [1, n] })).toMatchObject({ code: 'invalid_value', path: '$.a[1]' });
    }
  });

  it('refuses undefined in arrays, including holes', () => {
    expect(failure([1, undefined, 3]).code).toBe('invalid_value');
    // eslint-disable-next-line no-sparse-arrays
    expect(failure([1, , 3]).code).toBe('invalid_value');
    expect(failure({ a: [undefined] })).toMatchObject({ code: 'invalid_value', path: '$.a' });
    expect(failure(undefined).code).toBe('invalid_value');
  });

  it('refuses class instances, Buffers and other non-plain objects', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const values: unknown[] = [
      new Point(1, 2),
      Buffer.from('abc'),
      new Uint8Array([1, 2]),
      new ArrayBuffer(4),
      new Date(0),
      new Map([['a', 1]]),
      new Set([1]),
      /re/,
      new Error('x'),
      Promise.resolve(1),
    ];
    for (const v of values) {
      expect(failure(v).code).toBe('invalid_value');
      expect(failure({ wrapped: [v] })).toMatchObject({ code: 'invalid_value', path: '$.wrapped[0]' });
    }
  });

  it('refuses functions, symbols and bigints', () => {
    for (const v of [() => 1, Symbol('s'), 10n]) {
      expect(failure(v).code).toBe('invalid_value');
      expect(failure({ v }).code).toBe('invalid_value');
    }
  });
});

describe('inspectJson: UTF-8 bytes', () => {
  it('counts bytes of the UTF-8 encoding for non-ASCII text', () => {
    for (const value of [
      { s: 'é' },
      { s: '日本語' },
      { s: '😀 ok' },
      { clé: 'ünïcödé', n: [1, 'ß'] },
      { s: '\ud800x' },
    ]) {
      const r = inspectJson(value, { maxDepth: 32, maxBytes: 1e6 });
      expect(r.ok && r.bytes).toBe(Buffer.byteLength(JSON.stringify(value), 'utf8'));
    }
  });
});

describe('changedKeys', () => {
  it('lists top-level keys whose values differ, ignoring nested key order', () => {
    expect(changedKeys({ a: 1, b: { x: 1, y: 2 }, c: 3 }, { a: 1, b: { y: 2, x: 1 }, d: 4 })).toEqual([
      'c',
      'd',
    ]);
    expect(changedKeys(null, { a: 1 })).toEqual(['a']);
    expect(changedKeys({ a: [1, 2] }, { a: [2, 1] })).toEqual(['a']);
  });
});
