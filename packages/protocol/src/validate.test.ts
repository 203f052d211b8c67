import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode, type SyncError } from './error-codes.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { PullRequestSchema } from './messages/pull.js';
import { validateMessage, validatePushRequest } from './validate.js';

const limits: Limits = {
  ...DEFAULT_LIMITS,
  maxMutationsPerPush: 5,
  maxRecordBytes: 1000,
  maxPayloadBytes: 10_000,
  maxDepth: 8,
};

const put = (mid: number, value: unknown = { title: 'x' }, extra: Record<string, unknown> = {}) => ({
  mid,
  scope: 'team:a',
  collection: 'cards',
  id: `c${mid}`,
  op: 'put',
  base: 0,
  value,
  ...extra,
});
const mutation = (mid: number, fields: Record<string, unknown>) => ({
  mid,
  scope: 'team:a',
  collection: 'cards',
  id: `c${mid}`,
  base: 0,
  ...fields,
});

function nestedObject(depth: number): object {
  let v: object = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

function refused(raw: unknown, code: ErrorCode, l: Limits = limits): SyncError {
  const r = validatePushRequest(raw, l);
  if (r.ok) throw new Error(`expected ${code}, got ok`);
  expect(r.error.code, r.error.message).toBe(code);
  expect(r.error.retryable).toBe(ERROR_CODES[code].retryable);
  return r.error;
}

describe('validatePushRequest: accepted', () => {
  it('returns the parsed push for every op', () => {
    const raw = {
      mutations: [
        put(1, { title: 'a', tags: ['x'], meta: { n: 1 } }),
        mutation(2, { op: 'patch', patch: { set: { 'meta.n': 2, title: 'b' }, unset: ['tags'] } }),
        mutation(3, { op: 'delete', txn: 't1' }),
        mutation(4, { op: 'inc', field: 'meta.n', by: -1.5, txn: 't1' }),
        mutation(5, { op: 'restore', version: 1 }),
      ],
    };
    const r = validatePushRequest(raw, limits);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value).toEqual(raw);
  });

  it('accepts exactly maxMutationsPerPush, a record at maxDepth and a record of maxRecordBytes', () => {
    expect(validatePushRequest({ mutations: [1, 2, 3, 4, 5].map((m) => put(m)) }, limits).ok).toBe(true);
    expect(validatePushRequest({ mutations: [put(1, nestedObject(limits.maxDepth))] }, limits).ok).toBe(true);
    const atLimit = { s: 'x'.repeat(limits.maxRecordBytes - 8) };
    expect(JSON.stringify(atLimit).length).toBe(limits.maxRecordBytes);
    expect(validatePushRequest({ mutations: [put(1, atLimit)] }, limits).ok).toBe(true);
  });

  it('accepts contiguous transactions and mids that do not start at 1', () => {
    const raw = {
      mutations: [put(41, {}, { txn: 'a' }), put(42, {}, { txn: 'a' }), put(43), put(44, {}, { txn: 'b' })],
    };
    expect(validatePushRequest(raw, limits).ok).toBe(true);
  });
});

describe('validatePushRequest: refused', () => {
  it('refuses malformed messages with invalid_message and lists the issues', () => {
    const bad: unknown[] = [
      'push',
      42,
      null,
      [],
      {},
      { mutations: [] },
      { mutations: {} },
      { mutations: [put(1)], extra: 1 },
      { mutations: [put(1, { t: 1 }, { extra: 1 })] },
      { mutations: [put(1, { t: 1 }, { base: '0' })] },
      { mutations: [put(1, { t: 1 }, { mid: '1' })] },
      { mutations: [put(-1)] },
      { mutations: [put(0)] },
      { mutations: [put(1.5)] },
      { mutations: [put(1, { t: 1 }, { base: 0.5 })] },
      { mutations: [put(1, { t: 1 }, { base: -1 })] },
      { mutations: [put(1, { t: 1 }, { scope: 'bad scope' })] },
      { mutations: [put(1, { t: 1 }, { collection: '' })] },
      { mutations: [put(1, { t: 1 }, { id: '' })] },
      { mutations: [put(1, { t: 1 }, { id: 'x'.repeat(257) })] },
      { mutations: [put(1, { t: 1 }, { id: 'a\u0000b' })] },
      { mutations: [put(1, { t: 1 }, { id: 'lone \uD800 surrogate' })] },
      { mutations: [put(1, { t: 1 }, { id: '\uDC00' })] },
      { mutations: [put(1, [1])] },
      { mutations: [put(1, null)] },
      { mutations: [mutation(1, { op: 'patch', patch: {} })] },
      { mutations: [mutation(1, { op: 'patch', patch: { set: { 'a..b': 1 } } })] },
      { mutations: [mutation(1, { op: 'patch', patch: { unset: [''] } })] },
      { mutations: [mutation(1, { op: 'inc', field: 'n', by: '1' })] },
      { mutations: [mutation(1, { op: 'inc', field: '', by: 1 })] },
      { mutations: [mutation(1, { op: 'restore', version: 0 })] },
      { mutations: [mutation(1, { op: 7 })] },
      { mutations: [mutation(1, {})] },
    ];
    for (const raw of bad) {
      const error = refused(raw, 'invalid_message');
      expect(error.message.length, JSON.stringify(raw)).toBeGreaterThan(0);
    }
    const error = refused({ mutations: [put(1, { t: 1 }, { base: '0' })] }, 'invalid_message');
    expect(error.details?.['issues']).toEqual(expect.arrayContaining([expect.stringMatching(/base/)]));
  });

  it('refuses an unknown op with unknown_op, before anything else', () => {
    expect(refused({ mutations: [mutation(1, { op: 'drop' })] }, 'unknown_op').message).toMatch(/drop/);
    // Even when the rest of the message is also wrong.
    refused({ mutations: [put(1), mutation(9, { op: 'truncate', extra: true })], junk: 1 }, 'unknown_op');
    expect(
      refused({ mutations: [mutation(1, { op: 'x'.repeat(10_000) })] }, 'unknown_op').message.length,
    ).toBeLessThan(200);
  });

  it('refuses more than maxMutationsPerPush with too_many_mutations', () => {
    refused({ mutations: [1, 2, 3, 4, 5, 6].map((m) => put(m)) }, 'too_many_mutations');
  });

  it('refuses non-consecutive mids and split transactions with invalid_batch', () => {
    refused({ mutations: [put(1), put(3)] }, 'invalid_batch');
    refused({ mutations: [put(2), put(1)] }, 'invalid_batch');
    refused({ mutations: [put(1), put(1)] }, 'invalid_batch');
    refused({ mutations: [put(1, {}, { txn: 't' }), put(2), put(3, {}, { txn: 't' })] }, 'invalid_batch');
    refused(
      { mutations: [put(1, {}, { txn: 't' }), put(2, {}, { txn: 'u' }), put(3, {}, { txn: 't' })] },
      'invalid_batch',
    );
  });

  it('refuses a payload above maxPayloadBytes with payload_too_large', () => {
    // Each record is under maxRecordBytes; only the whole message is too large.
    const mutations = [1, 2, 3, 4, 5].map((m) => put(m, { s: 'x'.repeat(900) }));
    const size = JSON.stringify({ mutations }).length;
    refused({ mutations }, 'payload_too_large', { ...limits, maxPayloadBytes: size - 1 });
    expect(validatePushRequest({ mutations }, { ...limits, maxPayloadBytes: size }).ok).toBe(true);
    refused(
      { mutations: [put(1, { s: 'x'.repeat(900) })], pad: 'y'.repeat(limits.maxPayloadBytes) },
      'payload_too_large',
    );
  });

  it('refuses a record value above maxRecordBytes with record_too_large (put and patch values)', () => {
    refused({ mutations: [put(1, { s: 'x'.repeat(limits.maxRecordBytes - 7) })] }, 'record_too_large');
    refused(
      {
        mutations: [mutation(1, { op: 'patch', patch: { set: { big: 'x'.repeat(limits.maxRecordBytes) } } })],
      },
      'record_too_large',
    );
  });

  it('refuses nesting deeper than maxDepth with too_deep (in a value and in the envelope)', () => {
    refused({ mutations: [put(1, nestedObject(limits.maxDepth + 1))] }, 'too_deep');
    refused({ mutations: [put(1, nestedObject(100_000))] }, 'too_deep');
    refused(nestedObject(100_000), 'too_deep');
    refused(
      { mutations: [mutation(1, { op: 'patch', patch: { set: { x: nestedObject(limits.maxDepth) } } })] },
      'too_deep',
    );
  });

  it('refuses forbidden keys in values, patch key paths and inc fields with forbidden_key', () => {
    const proto: unknown = JSON.parse('{"__proto__": {"x": 1}}');
    const bad: unknown[] = [
      { mutations: [put(1, proto)] },
      { mutations: [put(1, { a: { constructor: 1 } })] },
      { mutations: [put(1, { list: [{ prototype: 1 }] })] },
      { mutations: [mutation(1, { op: 'patch', patch: { set: { 'a.__proto__.b': 1 } } })] },
      { mutations: [mutation(1, { op: 'patch', patch: { set: { constructor: 1 } } })] },
      { mutations: [mutation(1, { op: 'patch', patch: { unset: ['x.prototype'] } })] },
      { mutations: [mutation(1, { op: 'patch', patch: { set: { ok: proto } } })] },
      { mutations: [mutation(1, { op: 'inc', field: '__proto__', by: 1 })] },
      { mutations: [mutation(1, { op: 'inc', field: 'a.constructor.b', by: 1 })] },
      { mutations: [mutation(1, { op: 'inc', field: 'prototype', by: 1 })] },
    ];
    for (const raw of bad) refused(raw, 'forbidden_key');
  });

  it('refuses non-JSON values with invalid_value', () => {
    refused({ mutations: [put(1, { n: NaN })] }, 'invalid_value');
    refused({ mutations: [put(1, { b: Buffer.from('x') })] }, 'invalid_value');
    refused({ mutations: [put(1, { list: [1, undefined] })] }, 'invalid_value');
    refused({ mutations: [mutation(1, { op: 'inc', field: 'n', by: Infinity })] }, 'invalid_value');
  });
});

describe('validateMessage', () => {
  it('parses a valid message and refuses bad ones with the right code', () => {
    const r = validateMessage(PullRequestSchema, { scope: 'team:a', after: 3 }, limits);
    expect(r).toEqual({ ok: true, value: { scope: 'team:a', after: 3 } });
    const codeOf = (raw: unknown) => {
      const res = validateMessage(PullRequestSchema, raw, limits);
      return res.ok ? 'ok' : res.error.code;
    };
    expect(codeOf({ scope: 'team:a', after: -1 })).toBe('invalid_message');
    expect(codeOf({ scope: 'team:a', after: 0, extra: 1 })).toBe('invalid_message');
    expect(codeOf(JSON.parse('{"scope": "team:a", "after": 0, "__proto__": {}}'))).toBe('forbidden_key');
    expect(codeOf({ scope: 'team:a', after: 0, deep: nestedObject(100_000) })).toBe('too_deep');
    expect(codeOf({ scope: 'x'.repeat(limits.maxPayloadBytes), after: 0 })).toBe('payload_too_large');
  });
});
