import {
  checkEncoded,
  getAtPath,
  isKeyPathError,
  isReservedKey,
  jsonEqual,
  parseKeyPath,
  syncError,
  type JsonObject,
  type JsonValue,
  type QueryClause,
  type SyncError,
} from '@syncline/protocol';
import { compareValues, isOrderedScalar, sameKind } from './query-order.js';

/** A checked `where`: true when a record value matches every clause. */
export type RecordPredicate = (value: JsonObject) => boolean;

/** The result of checking a field path or a `where`. */
export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SyncError };

/**
 * Splits a field path from the wire into segments: `forbidden_key` for `__proto__`,
 * `constructor` or `prototype`, `invalid_query` for an empty segment or a tag key (`$date`).
 * Values are then read with `getAtPath`, which follows own properties only, so a name such as
 * `toString` or `hasOwnProperty` never reaches a prototype member: it is simply missing.
 */
export function checkField(field: string): Checked<string[]> {
  const segments = parseKeyPath(field);
  if (isKeyPathError(segments)) {
    const code = segments.code === 'forbidden_key' ? 'forbidden_key' : 'invalid_query';
    return { ok: false, error: syncError(code, `field "${field}": ${segments.message}`) };
  }
  const reserved = segments.find(isReservedKey);
  if (reserved !== undefined) {
    return {
      ok: false,
      error: syncError('invalid_query', `field "${field}": segment "${reserved}" is reserved for tags`),
    };
  }
  return { ok: true, value: segments };
}

/**
 * Checks a `where` (the schema already bounded its size) and compiles it. Semantics, on the
 * encoded values (dates as `{ $date }` tags, compared by time):
 * - `eq` / `in`: the field is present and equal (deeply) to the value / one of the values;
 * - `ne`: not `eq` (a missing field is not equal to anything);
 * - `lt`, `lte`, `gt`, `gte`: the field holds a value of the same kind (boolean, number, string,
 *   date) that compares so; a field of another kind, or missing, never matches.
 */
export function compileWhere(where: readonly QueryClause[]): Checked<RecordPredicate> {
  const tests: RecordPredicate[] = [];
  for (const clause of where) {
    const segments = checkField(clause.field);
    if (!segments.ok) return segments;
    const values = clause.op === 'in' ? clause.values : [clause.value];
    for (const v of values) {
      const enc = checkEncoded(v);
      if (!enc.ok) {
        return { ok: false, error: syncError('invalid_query', `field "${clause.field}": ${enc.message}`) };
      }
    }
    const at = (record: JsonObject) => getAtPath(record, segments.value);
    tests.push(clauseTest(clause, at));
    if (clause.op !== 'in' && clause.op !== 'eq' && clause.op !== 'ne' && !isOrderedScalar(clause.value)) {
      return {
        ok: false,
        error: syncError(
          'invalid_query',
          `field "${clause.field}": ${clause.op} compares with a boolean, number, string or date`,
        ),
      };
    }
  }
  return { ok: true, value: (record) => tests.every((t) => t(record)) };
}

function clauseTest(clause: QueryClause, at: (record: JsonObject) => JsonValue | undefined): RecordPredicate {
  if (clause.op === 'in') {
    const { values } = clause;
    return (r) => {
      const v = at(r);
      return v !== undefined && values.some((x) => jsonEqual(v, x));
    };
  }
  const target = clause.value;
  const ordered = (accept: (c: number) => boolean): RecordPredicate => {
    return (r) => {
      const v = at(r);
      return v !== undefined && sameKind(v, target) && accept(compareValues(v, target));
    };
  };
  switch (clause.op) {
    case 'eq':
      return (r) => {
        const v = at(r);
        return v !== undefined && jsonEqual(v, target);
      };
    case 'ne':
      return (r) => {
        const v = at(r);
        return v === undefined || !jsonEqual(v, target);
      };
    case 'lt':
      return ordered((c) => c < 0);
    case 'lte':
      return ordered((c) => c <= 0);
    case 'gt':
      return ordered((c) => c > 0);
    case 'gte':
      return ordered((c) => c >= 0);
  }
}
