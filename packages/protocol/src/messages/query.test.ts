import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../limits.js';
import { validateMessage } from '../validate.js';
import { QueryRequestSchema, QueryResponseSchema } from './query.js';

const check = (msg: unknown) => validateMessage(QueryRequestSchema, msg, DEFAULT_LIMITS);

describe('query messages', () => {
  it('takes an AND of comparisons and `in`, an order and a cursor', () => {
    const msg = {
      scope: 'team:a',
      collection: 'cards',
      where: [
        { field: 'status', op: 'eq', value: 'todo' },
        { field: 'due', op: 'lt', value: { $date: '2026-01-01T00:00:00.000Z' } },
        { field: 'meta.team', op: 'in', values: ['red', 'blue'] },
      ],
      orderBy: { field: 'due', direction: 'desc' },
      limit: 500,
      after: 'eyJpIjoiYSIsInMiOiJzeW5jbGluZSJ9',
    };
    expect(check(msg)).toEqual({ ok: true, value: msg });
  });

  it('refuses what it does not know, with invalid_message or forbidden_key', () => {
    const base = { scope: 'team:a', collection: 'cards', limit: 10 };
    for (const bad of [
      { ...base, limit: 501 },
      { ...base, limit: 1.5 },
      { ...base, extra: true },
      { ...base, where: [{ field: 'n', op: 'in', value: 1 }] },
      { ...base, where: [{ field: 'n', op: 'eq', values: [1] }] },
      { ...base, where: [{ field: 'n', op: 'in', values: [] }] },
      { ...base, where: [{ field: 'n', op: 'regex', value: '.*' }] },
      { ...base, where: [{ field: '', op: 'eq', value: 1 }] },
      { ...base, orderBy: { field: 'n', direction: 'up' } },
      { ...base, after: '' },
    ]) {
      const r = check(bad);
      expect(r.ok ? 'accepted' : r.error.code, JSON.stringify(bad)).toBe('invalid_message');
    }
    const proto = check(
      JSON.parse(
        '{"scope":"team:a","collection":"c","limit":1,"where":[{"field":"n","op":"eq","value":{"__proto__":1}}]}',
      ),
    );
    expect(proto.ok ? 'accepted' : proto.error.code).toBe('forbidden_key');
  });

  it('answers rows with their source, a cursor, and per-source errors', () => {
    const res = {
      ok: true,
      rows: [
        { source: 'syncline', id: 'c1', version: 3, value: { n: 1 } },
        { source: 'archive', id: 'a1', version: null, value: { n: 2 } },
      ],
      next: null,
      partial: true,
      errors: [{ source: 'slow', error: { code: 'source_unavailable', message: 'late', retryable: true } }],
    };
    expect(QueryResponseSchema.parse(res)).toEqual(res);
  });
});
