import * as z from 'zod';
import {
  checkEncoded,
  JsonValueSchema,
  syncError,
  type JsonValue,
  type QueryOrder,
} from '@syncline/protocol';
import { compareValues } from './query-order.js';
import type { Checked } from './where.js';

/**
 * Where a row sits in a query's order: the value of the `orderBy` field (undefined when the
 * field is missing, or without `orderBy`), then the row id, then its source. The order is
 * total, so a keyset cursor on it pages without duplicates or gaps.
 */
export interface RowKey {
  readonly value: JsonValue | undefined;
  readonly id: string;
  readonly source: string;
}

/** Compares two row keys in the query's order (`desc` reverses the whole key). */
export function compareKeys(a: RowKey, b: RowKey, order: QueryOrder | undefined): number {
  const c =
    compareValues(a.value, b.value) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
    (a.source < b.source ? -1 : a.source > b.source ? 1 : 0);
  return order?.direction === 'desc' ? -c : c;
}

const CursorSchema = z.strictObject({ k: JsonValueSchema.optional(), i: z.string(), s: z.string() });

/** The opaque cursor after `key`: base64url of a small JSON object. */
export function encodeCursor(key: RowKey): string {
  const body = { ...(key.value !== undefined ? { k: key.value } : {}), i: key.id, s: key.source };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** The row key a cursor names; `invalid_query` for anything `encodeCursor` did not write. */
export function decodeCursor(cursor: string): Checked<RowKey> {
  const bad = { ok: false, error: syncError('invalid_query', 'after: not a cursor of this server') } as const;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return bad;
  }
  const body = CursorSchema.safeParse(parsed);
  if (!body.success) return bad;
  const { k, i, s } = body.data;
  if (k !== undefined && !checkEncoded(k).ok) return bad;
  return { ok: true, value: { value: k, id: i, source: s } };
}
