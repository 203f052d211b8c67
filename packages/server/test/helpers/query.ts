import { expect } from 'vitest';
import {
  ERROR_CODES,
  type ErrorCode,
  type JsonObject,
  type QueryRequest,
  type QueryResponse,
  type QueryRow,
} from '@syncline/protocol';
import type { TestClient } from '@syncline/test-support/server';
import { coll } from './scenario.js';

/** The scope and collection the query tests use. */
export const S = 'team:a';
export const cards = coll(S, 'cards');

export type Req = Omit<QueryRequest, 'scope'> & { scope: string };
export const ask = (c: TestClient, req: Req | Record<string, unknown>) =>
  c.raw('query', req) as Promise<QueryResponse>;

export async function ok(c: TestClient, req: Req): Promise<QueryResponse & { ok: true }> {
  const res = await ask(c, req);
  if (!res.ok) throw new Error(`query failed: ${res.error.code} ${res.error.message}`);
  return res;
}

export async function refused(c: TestClient, req: Record<string, unknown>, code: ErrorCode): Promise<string> {
  const res = await ask(c, req);
  expect(res.ok).toBe(false);
  if (res.ok) return '';
  expect(res.error.code, res.error.message).toBe(code);
  expect(res.error.retryable).toBe(ERROR_CODES[code].retryable);
  return res.error.message;
}

/** Every page of a query, following `next`. */
export async function allPages(c: TestClient, req: Req): Promise<QueryRow[]> {
  const rows: QueryRow[] = [];
  let after: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await ok(c, { ...req, ...(after !== undefined ? { after } : {}) });
    expect(page.rows.length).toBeLessThanOrEqual(req.limit);
    rows.push(...page.rows);
    if (page.next === null) return rows;
    after = page.next;
  }
  throw new Error('too many pages');
}

export const date = (iso: string) => ({ $date: new Date(iso).toISOString() });

/** Twelve cards c00…c11: n = i, status todo/done alternating, a nested team and a due date. */
export async function seed(c: TestClient): Promise<void> {
  for (let i = 0; i < 12; i++) {
    const value: JsonObject = {
      n: i,
      status: i % 2 === 0 ? 'todo' : 'done',
      meta: { team: i < 6 ? 'red' : 'blue' },
      due: date(`2026-01-${String(i + 1).padStart(2, '0')}`),
    };
    await c.write(cards.put(`c${String(i).padStart(2, '0')}`, 0, value));
  }
  await c.write(coll(S, 'notes').put('c03', 0, { n: 3, status: 'todo' }), cards.delete('c11', 12));
}
