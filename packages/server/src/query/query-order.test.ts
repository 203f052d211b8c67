import { describe, expect, it } from 'vitest';
import type { JsonValue } from '@syncline/protocol';
import { compareKeys, decodeCursor, encodeCursor } from './query-cursor.js';
import { compareValues } from './query-order.js';

describe('query order', () => {
  it('orders every kind of value totally: missing < null < booleans < numbers < strings < dates < other', () => {
    const sorted: (JsonValue | undefined)[] = [
      undefined,
      null,
      false,
      true,
      -1,
      2.5,
      10,
      '',
      'B',
      'a',
      { $date: '1999-12-31T23:59:59.999Z' },
      { $date: '2026-01-01T00:00:00.000Z' },
      [1],
      { a: 1 },
    ];
    // Boxed: Array.prototype.sort never hands `undefined` to a comparator.
    const boxed = [...sorted].reverse().map((v) => ({ v }));
    boxed.sort((a, b) => compareValues(a.v, b.v));
    expect(boxed.map((b) => b.v)).toEqual(sorted);
    expect(compareValues({ b: 1, a: 2 }, { a: 2, b: 1 })).toBe(0);
  });

  it('breaks ties by id then source, and desc reverses the whole key', () => {
    const a = { value: 1, id: 'x', source: 'syncline' };
    const b = { value: 1, id: 'x', source: 'archive' };
    const c = { value: 1, id: 'y', source: 'archive' };
    expect([a, c, b].sort((p, q) => compareKeys(p, q, undefined))).toEqual([b, a, c]);
    expect([a, c, b].sort((p, q) => compareKeys(p, q, { field: 'n', direction: 'desc' }))).toEqual([c, a, b]);
  });

  it('round-trips a cursor and refuses anything else', () => {
    for (const key of [
      { value: undefined, id: 'r1', source: 'syncline' },
      { value: { $date: '2026-01-01T00:00:00.000Z' }, id: '~n7', source: 'archive' },
    ]) {
      expect(decodeCursor(encodeCursor(key))).toEqual({ ok: true, value: key });
    }
    for (const bad of [
      '%%%',
      Buffer.from('[1]').toString('base64url'),
      Buffer.from('{"i":"a","s":"b","x":1}').toString('base64url'),
    ]) {
      expect(decodeCursor(bad)).toMatchObject({ ok: false, error: { code: 'invalid_query' } });
    }
  });
});
