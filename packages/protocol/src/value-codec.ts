import { base64ToBytes, bytesToBase64, isCanonicalBase64 } from './base64.js';
import { FORBIDDEN_KEYS, type JsonObject, type JsonValue } from './json.js';

/**
 * The values an app stores in a synced record: JSON plus `Date`, `Uint8Array` and
 * `ArrayBuffer`. On the wire and in server storage they travel as tagged JSON (see
 * `docs/values-and-keys.md`):
 *
 * - `Date` → `{ "$date": "2024-05-01T12:00:00.000Z" }` (exactly `toISOString()`)
 * - `Uint8Array` → `{ "$bytes": "<base64>" }`, `ArrayBuffer` → `{ "$arraybuffer": "<base64>" }`
 * - an object key starting with `$` gets one more `$` (`"$price"` → `"$$price"`)
 *
 * So a key of the form `$` + another character is never user data: an object holding one is a
 * tag, and a user object shaped like a tag (`{ $date: "…" }`) travels as `{ $$date: "…" }` and
 * comes back as the plain object it was. Encoding is deterministic and decoding a valid encoding
 * gives back exactly what re-encodes to it, so both sides hash the same text.
 */
export type AppValue =
  | null
  | boolean
  | number
  | string
  | Date
  | Uint8Array
  | ArrayBuffer
  | readonly AppValue[]
  | { readonly [key: string]: AppValue | undefined };

/** A record as the app stores it (the top level of a record is always a plain object). */
export type AppObject = { [key: string]: AppValue | undefined };

export const VALUE_TAGS = { date: '$date', bytes: '$bytes', arrayBuffer: '$arraybuffer' } as const;
const TAGS: ReadonlySet<string> = new Set(Object.values(VALUE_TAGS));

export type CodecError = {
  readonly ok: false;
  readonly code: 'invalid_value' | 'too_deep' | 'forbidden_key';
  readonly message: string;
  /** Where in the value, `$.a.b[2]` style. */
  readonly path: string;
};
export type CodecResult<T> = { readonly ok: true; readonly value: T } | CodecError;

/** True for a key only a tag may use: `$` followed by anything but `$`. */
export function isReservedKey(key: string): boolean {
  return key.length >= 2 && key.charCodeAt(0) === 36 && key.charCodeAt(1) !== 36;
}

/** A user object key as it travels: a leading `$` is doubled. */
export function encodeKey(key: string): string {
  return key.charCodeAt(0) === 36 ? `$${key}` : key;
}

/** The user key of an encoded key (the inverse of `encodeKey` on non-reserved keys). */
export function decodeKey(key: string): string {
  return key.startsWith('$$') ? key.slice(1) : key;
}

/** A Dexie-style key path (`a.b.c`) with each segment encoded like an object key. */
export function encodeKeyPath(path: string): string {
  return path.includes('$') ? path.split('.').map(encodeKey).join('.') : path;
}

const tagOf = (v: object): string => Object.prototype.toString.call(v).slice(8, -1);

/** A tag object (`{ $date: … }` and the like), valid or not: one key, and a reserved one. */
export function isTagLike(v: JsonValue | undefined): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const k in v) if (isReservedKey(k)) return true;
  return false;
}

function fail(code: CodecError['code'], message: string, path: string): CodecError {
  return { ok: false, code, message, path };
}

/** The default nesting guard of `encodeValue` (a cycle would otherwise recurse forever). */
const DEFAULT_MAX_DEPTH = 64;

/**
 * Encodes an app value for the wire. Refuses (as data, never a throw) what cannot be synced:
 * invalid dates, non-finite numbers, `undefined` in arrays, other binary views, `Blob`, class
 * instances, functions, forbidden keys, and nesting beyond `maxDepth` (cycles included).
 * `undefined` object properties are dropped, as JSON does.
 */
export function encodeValue(value: unknown, maxDepth = DEFAULT_MAX_DEPTH): CodecResult<JsonValue> {
  let error: CodecError | undefined;
  const walk = (v: unknown, path: string, depth: number): JsonValue | undefined => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return v;
      error = fail('invalid_value', 'numbers must be finite', path);
      return undefined;
    }
    if (typeof v !== 'object') {
      error = fail('invalid_value', `a ${typeof v} cannot be synced`, path);
      return undefined;
    }
    if (depth >= maxDepth) {
      error = fail('too_deep', `nesting deeper than ${maxDepth}`, path);
      return undefined;
    }
    if (Array.isArray(v)) {
      const out: JsonValue[] = [];
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item === undefined) {
          error = fail('invalid_value', 'undefined in an array', `${path}[${i}]`);
          return undefined;
        }
        const enc = walk(item, `${path}[${i}]`, depth + 1);
        if (error) return undefined;
        out.push(enc!);
      }
      return out;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      const out: JsonObject = {};
      for (const key of Object.keys(v)) {
        if (FORBIDDEN_KEYS.has(key)) {
          error = fail('forbidden_key', `forbidden key "${key}"`, path);
          return undefined;
        }
        const item = (v as Record<string, unknown>)[key];
        if (item === undefined) continue;
        const enc = walk(item, `${path}.${key}`, depth + 1);
        if (error) return undefined;
        out[encodeKey(key)] = enc!;
      }
      return out;
    }
    switch (tagOf(v)) {
      case 'Date': {
        const ms = (v as Date).getTime();
        if (Number.isNaN(ms)) {
          error = fail('invalid_value', 'an invalid Date cannot be synced', path);
          return undefined;
        }
        return { [VALUE_TAGS.date]: new Date(ms).toISOString() };
      }
      case 'Uint8Array':
        return { [VALUE_TAGS.bytes]: bytesToBase64(v as Uint8Array) };
      case 'ArrayBuffer':
        return { [VALUE_TAGS.arrayBuffer]: bytesToBase64(new Uint8Array(v as ArrayBuffer)) };
      case 'Blob':
      case 'File':
        error = fail(
          'invalid_value',
          'a Blob cannot be synced inside a record; store its bytes as a Uint8Array or ArrayBuffer',
          path,
        );
        return undefined;
      default:
        error = fail(
          'invalid_value',
          ArrayBuffer.isView(v)
            ? `a ${tagOf(v)} cannot be synced; use a Uint8Array over the same bytes`
            : `a ${tagOf(v)} cannot be synced: only JSON, Date, Uint8Array and ArrayBuffer values`,
          path,
        );
        return undefined;
    }
  };
  const out = walk(value, '$', 0);
  return error ?? { ok: true, value: out! };
}

/** `encodeValue` for a whole record: the top level must be a plain object. */
export function encodeRecord(value: unknown, maxDepth = DEFAULT_MAX_DEPTH): CodecResult<JsonObject> {
  const r = encodeValue(value, maxDepth);
  if (!r.ok) return r;
  if (typeof r.value !== 'object' || r.value === null || Array.isArray(r.value) || isTagLike(r.value)) {
    return fail('invalid_value', 'a record must be a plain object', '$');
  }
  return { ok: true, value: r.value };
}

/** Why a tag object is not a valid encoding, or undefined when it is. */
function tagProblem(v: JsonObject): string | undefined {
  const keys = Object.keys(v);
  const tag = keys.find(isReservedKey)!;
  if (keys.length !== 1) return `"${tag}" must be the only key of its object`;
  if (!TAGS.has(tag)) return `unknown tag "${tag}" (escape user keys that start with "$" as "$$")`;
  const body = v[tag];
  if (typeof body !== 'string') return `"${tag}" needs a string`;
  if (tag === VALUE_TAGS.date) {
    const d = new Date(body);
    return !Number.isNaN(d.getTime()) && d.toISOString() === body
      ? undefined
      : `"$date" needs a date exactly as toISOString() writes it`;
  }
  return isCanonicalBase64(body) ? undefined : `"${tag}" needs canonical padded base64`;
}

/**
 * Checks that a wire value is a valid encoding: every reserved key belongs to a well-formed tag
 * (known, alone in its object, canonical body). What the server requires of every value it
 * stores, so every stored value decodes and re-encodes to itself.
 */
export function checkEncoded(value: JsonValue): CodecResult<JsonValue> {
  const stack: { v: JsonValue; path: string }[] = [{ v: value, path: '$' }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]` }));
      continue;
    }
    if (isTagLike(v)) {
      const problem = tagProblem(v);
      if (problem !== undefined) return fail('invalid_value', problem, path);
      continue;
    }
    for (const [k, item] of Object.entries(v)) stack.push({ v: item, path: `${path}.${decodeKey(k)}` });
  }
  return { ok: true, value };
}

/** `checkEncoded` for a record value, whose top level must be a plain object, not a tag. */
export function checkEncodedRecord(value: JsonObject): CodecResult<JsonObject> {
  if (isTagLike(value)) return fail('invalid_value', 'a record must be a plain object, not a tag', '$');
  const r = checkEncoded(value);
  return r.ok ? { ok: true, value } : r;
}

/**
 * Decodes a wire value into the app's types. Total: a value that is not a valid encoding (the
 * server refuses those, so only data stored before it did) decodes with its tags left as plain
 * objects, never a throw.
 */
export function decodeValue(value: JsonValue): AppValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(decodeValue);
  if (isTagLike(value) && tagProblem(value) === undefined) {
    const [tag, body] = Object.entries(value)[0]! as [string, string];
    if (tag === VALUE_TAGS.date) return new Date(body);
    const bytes = base64ToBytes(body);
    return tag === VALUE_TAGS.bytes ? bytes : bytes.buffer;
  }
  const out: AppObject = {};
  for (const [k, item] of Object.entries(value)) {
    const key = decodeKey(k);
    // Never stored (the server refuses them); skipped so that no decode can set a prototype.
    if (FORBIDDEN_KEYS.has(key)) continue;
    out[key] = decodeValue(item);
  }
  return out;
}

/** `decodeValue` of a record (an encoded plain object decodes to a plain object). */
export function decodeRecord(value: JsonObject): AppObject {
  const out = decodeValue(value);
  return typeof out === 'object' && out !== null && !isBinaryOrDate(out) && !Array.isArray(out)
    ? (out as AppObject)
    : { ...value };
}

function isBinaryOrDate(v: object): boolean {
  const t = tagOf(v);
  return t === 'Date' || t === 'Uint8Array' || t === 'ArrayBuffer';
}
