import * as z from 'zod';
import type { ErrorCode } from './error-codes.js';

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Keys refused anywhere in a value or key path: they enable prototype pollution downstream. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Schemas for JSON values. They check the shape only; depth, size and forbidden keys are
 * checked once for the whole message by `inspectJson`, iteratively, before schema parsing.
 */
export const JsonValueSchema = z.custom<JsonValue>(() => true);
export const JsonObjectSchema = z.custom<JsonObject>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'expected a JSON object',
);

export interface InspectLimits {
  readonly maxDepth: number;
  readonly maxBytes: number;
}

export type InspectResult =
  | { readonly ok: true; readonly bytes: number; readonly depth: number }
  | {
      readonly ok: false;
      readonly code: Extract<ErrorCode, 'too_deep' | 'payload_too_large' | 'forbidden_key' | 'invalid_value'>;
      readonly message: string;
      readonly path: string;
    };

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// Strings that are not plain printable ASCII: they need escapes or take more than one UTF-8 byte.
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NOT_PLAIN_ASCII = /["\\\u0000-\u001f\u007f-\uffff]/;

/** UTF-8 length of a string whose surrogates are all paired (true of JSON.stringify output). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Bytes of the UTF-8 JSON encoding of a string, quotes and escapes included. */
function jsonStringLength(s: string): number {
  return NOT_PLAIN_ASCII.test(s) ? utf8Length(JSON.stringify(s)) : s.length + 2;
}

/**
 * Walks a value without recursion (so a 10,000-deep document cannot overflow the stack) and
 * checks that it is plain JSON within the limits. `bytes` is the size of its UTF-8 JSON
 * encoding (escapes included), computed without encoding the whole value. Stops at the first
 * problem.
 * `undefined` object properties are skipped (JSON drops them); anything else non-JSON fails.
 */
export function inspectJson(value: unknown, limits: InspectLimits): InspectResult {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '$' }];
  let bytes = 0;
  let maxSeen = 0;
  const fail = (
    code: Extract<InspectResult, { ok: false }>['code'],
    message: string,
    path: string,
  ): InspectResult => ({ ok: false, code, message, path });

  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null) {
      bytes += 4;
    } else if (typeof v === 'boolean') {
      bytes += v ? 4 : 5;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return fail('invalid_value', 'numbers must be finite', path);
      bytes += String(v).length;
    } else if (typeof v === 'string') {
      bytes += jsonStringLength(v);
    } else if (typeof v === 'object') {
      const d = depth + 1;
      if (d > limits.maxDepth) {
        return fail('too_deep', `nesting deeper than ${limits.maxDepth}`, path);
      }
      if (d > maxSeen) maxSeen = d;
      if (Array.isArray(v)) {
        bytes += 2 + Math.max(0, v.length - 1);
        for (let i = v.length - 1; i >= 0; i--) {
          const item: unknown = v[i];
          if (item === undefined) return fail('invalid_value', 'undefined in an array', path);
          stack.push({ v: item, depth: d, path: `${path}[${i}]` });
        }
      } else if (isPlainObject(v)) {
        bytes += 2;
        let n = 0;
        for (const key of Object.keys(v)) {
          if (FORBIDDEN_KEYS.has(key)) return fail('forbidden_key', `forbidden key "${key}"`, path);
          const item = v[key];
          if (item === undefined) continue;
          bytes += jsonStringLength(key) + 1 + (n > 0 ? 1 : 0);
          n++;
          stack.push({ v: item, depth: d, path: `${path}.${key}` });
        }
      } else {
        return fail('invalid_value', 'only plain JSON objects and arrays are allowed', path);
      }
    } else {
      return fail('invalid_value', `a ${typeof v} is not JSON`, path);
    }
    if (bytes > limits.maxBytes) {
      return fail('payload_too_large', `larger than ${limits.maxBytes} bytes`, path);
    }
  }
  return { ok: true, bytes, depth: maxSeen };
}

/** Deep structural equality of two JSON values (object key order ignored). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** Top-level keys whose values differ between two objects (absent counts as a value), sorted. */
export function changedKeys(a: JsonObject | null, b: JsonObject | null): string[] {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].filter((k) => !jsonEqual(a?.[k], b?.[k])).sort();
}

/** A deep copy of a JSON value (structuredClone would keep non-JSON values). */
export function cloneJson<T extends JsonValue>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
