import { describe, expect, it } from 'vitest';
import { decodeRecordKey, encodeRecordKey, type RecordKey } from './record-key.js';
import { validatePushRequest } from './validate.js';
import { DEFAULT_LIMITS } from './limits.js';

function id(key: unknown): string {
  const r = encodeRecordKey(key);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('record keys', () => {
  const keys: RecordKey[] = [
    'c1',
    '1',
    1,
    0,
    -2.5,
    1e21,
    Number.MAX_SAFE_INTEGER,
    '~',
    '~n1',
    '~~',
    ['a', 1],
    ['a', '1'],
    [1, 'a'],
    ['~', 'x,y', 'é"\\'],
    [0],
  ];

  it('maps every key kind to a distinct record id and back', () => {
    const ids = keys.map(id);
    expect(new Set(ids).size).toBe(keys.length);
    keys.forEach((k, i) => expect(decodeRecordKey(ids[i]!)).toEqual({ ok: true, value: k }));
    expect(id('1')).toBe('1');
    expect(id(1)).toBe('~n1');
    expect(id(['a', 1])).toBe('~a["a",1]');
    expect(id('~x')).toBe('~~x');
  });

  it('keeps ordinary string ids as they are', () => {
    for (const s of ['01J0ZQ3V9K', 'c_abc-DEF', 'user:42']) expect(id(s)).toBe(s);
  });

  it('refuses keys that cannot be synced', () => {
    for (const k of [
      NaN,
      Infinity,
      new Date(0),
      new Uint8Array(1),
      [],
      [['nested']],
      [null],
      true,
      '',
      'x'.repeat(300),
    ]) {
      expect(encodeRecordKey(k).ok, String(k)).toBe(false);
    }
  });

  it('refuses ids no key encodes to', () => {
    for (const s of ['~x', '~n01', '~n1.0', '~nNaN', '~n', '~a[1,]', '~a[]', '~a[[1]]', '~a[ 1]', '~a"x"']) {
      expect(decodeRecordKey(s).ok, s).toBe(false);
    }
  });

  it('the server refuses pushes with a reserved id', () => {
    const push = (recordId: string) =>
      validatePushRequest(
        {
          mutations: [
            { mid: 1, scope: 's', collection: 'c', id: recordId, base: 0, op: 'put', value: { a: 1 } },
          ],
        },
        DEFAULT_LIMITS,
      );
    expect(push('~n1').ok).toBe(true);
    expect(push('~bogus')).toMatchObject({ ok: false, error: { code: 'invalid_message' } });
  });
});
