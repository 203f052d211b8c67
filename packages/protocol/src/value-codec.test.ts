import { describe, expect, it } from 'vitest';
// Seeded, so a failing case replays from its seed.
import { mulberry32 } from '@syncline/test-support';
import { base64ToBytes, bytesToBase64, isCanonicalBase64 } from './base64.js';
import { canonicalJson } from './canonical-json.js';
import { inspectJson, type JsonValue } from './json.js';
import { DEFAULT_LIMITS } from './limits.js';
import {
  checkEncoded,
  checkEncodedRecord,
  decodeRecord,
  decodeValue,
  encodeKeyPath,
  encodeRecord,
  encodeValue,
  type AppValue,
} from './value-codec.js';

const KEYS = ['a', 'b', '$date', '$bytes', '$$date', '$', '$$', '$arraybuffer', '$x', 'é', 'when'];

/** A random app value: JSON, dates, binaries, and user objects shaped like tags. */
function randomValue(rnd: () => number, depth: number): AppValue {
  const pick = Math.floor(rnd() * (depth > 4 ? 7 : 10));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return Math.floor((rnd() - 0.5) * 1e6) / (rnd() < 0.5 ? 1 : 7);
    case 3:
      return ['', 'x', '$date', '2024-01-01T00:00:00.000Z', 'AAAA'][Math.floor(rnd() * 5)]!;
    case 4:
      return new Date(Math.floor((rnd() - 0.5) * 8.64e15));
    case 5: {
      const bytes = new Uint8Array(Math.floor(rnd() * 10));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
      return rnd() < 0.5 ? bytes : bytes.buffer;
    }
    case 6:
      // A user object that looks exactly like a tag.
      return {
        [KEYS[Math.floor(rnd() * 4) + 1]!]: ['2024-01-01T00:00:00.000Z', 'AAAA'][Math.floor(rnd() * 2)]!,
      };
    case 7:
    case 8: {
      const out: Record<string, AppValue> = {};
      const n = Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) out[KEYS[Math.floor(rnd() * KEYS.length)]!] = randomValue(rnd, depth + 1);
      return out;
    }
    default:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
  }
}

function encoded(v: unknown): JsonValue {
  const r = encodeValue(v);
  if (!r.ok) throw new Error(`${r.code} at ${r.path}: ${r.message}`);
  return r.value;
}

describe('value codec', () => {
  it('round-trips random values (dates, binaries, tag-shaped user objects, nesting) exactly', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const value = randomValue(mulberry32(seed), 0);
      const wire = encoded(value);
      // What travels is plain JSON: stringify/parse keeps it, and it passes the server's check.
      const parsed = JSON.parse(JSON.stringify(wire)) as JsonValue;
      expect(checkEncoded(parsed).ok, `seed ${seed}`).toBe(true);
      const back = decodeValue(parsed);
      expect(back, `seed ${seed}`).toEqual(value);
      // Deterministic: re-encoding the decoded value gives the same canonical text (hashes agree).
      expect(canonicalJson(encoded(back)), `seed ${seed}`).toBe(canonicalJson(wire));
    }
  });

  it('keeps the app types: Date, Uint8Array, ArrayBuffer', () => {
    const when = new Date('2024-05-01T12:34:56.789Z');
    const bytes = new Uint8Array([0, 1, 254, 255]);
    const wire = encoded({ when, bytes, buf: bytes.slice().buffer, list: [when] });
    expect(wire).toEqual({
      when: { $date: '2024-05-01T12:34:56.789Z' },
      bytes: { $bytes: 'AAH+/w==' },
      buf: { $arraybuffer: 'AAH+/w==' },
      list: [{ $date: '2024-05-01T12:34:56.789Z' }],
    });
    const back = decodeValue(wire) as Record<string, unknown>;
    expect(back.when).toBeInstanceOf(Date);
    expect((back.when as Date).getTime()).toBe(when.getTime());
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect([...(back.bytes as Uint8Array)]).toEqual([0, 1, 254, 255]);
    expect(back.buf).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(back.buf as ArrayBuffer)]).toEqual([0, 1, 254, 255]);
  });

  it('cannot be spoofed: user objects shaped like tags come back as those plain objects', () => {
    const user = {
      a: { $date: '2024-01-01T00:00:00.000Z' },
      b: { $bytes: 'AAAA' },
      c: { $$date: 'x' },
      $price: 3,
      $: 1,
    };
    const wire = encoded(user);
    expect(wire).toEqual({
      a: { $$date: '2024-01-01T00:00:00.000Z' },
      b: { $$bytes: 'AAAA' },
      c: { $$$date: 'x' },
      $$price: 3,
      $$: 1,
    });
    expect(decodeValue(wire)).toEqual(user);
    expect((decodeValue(wire) as Record<string, unknown>).a).not.toBeInstanceOf(Date);
  });

  it('encodes only the bytes a Uint8Array view covers, and empty binaries', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    expect(encoded(backing.subarray(2, 5))).toEqual({ $bytes: 'AQID' });
    expect(encoded(new Uint8Array(0))).toEqual({ $bytes: '' });
    expect(encoded(new ArrayBuffer(0))).toEqual({ $arraybuffer: '' });
    expect(decodeValue({ $bytes: '' })).toEqual(new Uint8Array(0));
    expect((decodeValue({ $arraybuffer: '' }) as ArrayBuffer).byteLength).toBe(0);
  });

  it('round-trips a binary near the record limit, and inspectJson measures the encoded form', () => {
    // Base64 grows 4/3: the largest binary a default record holds is about 3/4 of its limit.
    const n = Math.floor(((DEFAULT_LIMITS.maxRecordBytes - 64) * 3) / 4);
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = (i * 31 + 7) & 255;
    const wire = encoded({ id: 'x', data: bytes });
    const limits = { maxDepth: DEFAULT_LIMITS.maxDepth, maxBytes: DEFAULT_LIMITS.maxRecordBytes };
    expect(inspectJson(wire, limits).ok).toBe(true);
    expect((decodeValue(wire) as { data: Uint8Array }).data).toEqual(bytes);
    const tooBig = encoded({ id: 'x', data: new Uint8Array(n + 100) });
    expect(inspectJson(tooBig, limits)).toMatchObject({ ok: false, code: 'payload_too_large' });
  });

  it('counts a tag as one level of nesting', () => {
    // maxDepth - 1 objects around a Date fit; one more object and the tag is one level too deep.
    let v: AppValue = new Date(0);
    for (let i = 0; i < DEFAULT_LIMITS.maxDepth - 1; i++) v = { v };
    const limits = { maxDepth: DEFAULT_LIMITS.maxDepth, maxBytes: DEFAULT_LIMITS.maxRecordBytes };
    expect(inspectJson(encoded(v), limits)).toMatchObject({ ok: true, depth: DEFAULT_LIMITS.maxDepth });
    expect(inspectJson(encoded({ v }), limits)).toMatchObject({ ok: false, code: 'too_deep' });
  });

  it('refuses what cannot be synced, as data, with a path', () => {
    const refused: [unknown, string, string][] = [
      [{ d: new Date(NaN) }, 'invalid_value', '$.d'],
      [{ n: Infinity }, 'invalid_value', '$.n'],
      [{ l: [1, undefined] }, 'invalid_value', '$.l[1]'],
      [{ v: new Int16Array(2) }, 'invalid_value', '$.v'],
      [{ v: new DataView(new ArrayBuffer(2)) }, 'invalid_value', '$.v'],
      [{ m: new Map() }, 'invalid_value', '$.m'],
      [{ f: () => 1 }, 'invalid_value', '$.f'],
      [{ b: 1n }, 'invalid_value', '$.b'],
      [JSON.parse('{"x":{"__proto__":1}}'), 'forbidden_key', '$.x'],
    ];
    if (typeof Blob !== 'undefined') refused.push([{ blob: new Blob(['x']) }, 'invalid_value', '$.blob']);
    for (const [value, code, path] of refused) {
      expect(encodeValue(value), String(path)).toMatchObject({ ok: false, code, path });
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(encodeValue(cyclic)).toMatchObject({ ok: false, code: 'too_deep' });
    expect(encodeRecord(new Date(0))).toMatchObject({ ok: false, code: 'invalid_value' });
    expect(encodeRecord([1])).toMatchObject({ ok: false, code: 'invalid_value' });
  });

  it('drops undefined properties, as JSON does', () => {
    expect(encoded({ a: 1, b: undefined })).toEqual({ a: 1 });
  });

  it('checkEncoded refuses invalid or ambiguous tags (what the server must never store)', () => {
    const invalid: JsonValue[] = [
      { $date: '2024-01-01' },
      { $date: '2024-01-01T00:00:00Z' },
      { $date: 'not a date' },
      { $date: 0 },
      { $bytes: 'AAA' },
      { $bytes: 'AB==' },
      { $bytes: 'A A=' },
      { $bytes: 'AAAA', x: 1 },
      { $unknown: 1 },
      { deep: [{ $date: '2024-13-01T00:00:00.000Z' }] },
    ];
    for (const v of invalid) expect(checkEncoded(v).ok, JSON.stringify(v)).toBe(false);
    expect(checkEncodedRecord({ $date: '2024-01-01T00:00:00.000Z' }).ok).toBe(false);
    expect(checkEncoded({ a: { $date: '+275760-09-13T00:00:00.000Z' } }).ok).toBe(true);
  });

  it('decodes invalid encodings without throwing, leaving them as plain objects', () => {
    expect(decodeValue({ $date: 'nope' })).toEqual({ $date: 'nope' });
    expect(decodeRecord({ $bytes: 'AAAA' })).toEqual({ $bytes: 'AAAA' });
    expect(decodeValue(JSON.parse('{"__proto__":{"x":1},"a":1}') as JsonValue)).toEqual({ a: 1 });
  });

  it('encodes key paths segment by segment', () => {
    expect(encodeKeyPath('a.b')).toBe('a.b');
    expect(encodeKeyPath('$a.b.$$c')).toBe('$$a.b.$$$c');
  });
});

describe('base64', () => {
  it('matches Node for random lengths and rejects non-canonical text', () => {
    const rnd = mulberry32(7);
    for (let n = 0; n < 300; n++) {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = Math.floor(rnd() * 256);
      const text = bytesToBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(isCanonicalBase64(text)).toBe(true);
      expect(base64ToBytes(text)).toEqual(bytes);
    }
    for (const s of ['A', 'AA=', 'AB==', 'AAB=', '====', 'AA-_', 'AAAA\n'])
      expect(isCanonicalBase64(s)).toBe(false);
  });
});
