import { FORBIDDEN_KEYS, isJsonObject, type JsonObject, type JsonValue } from './json.js';

/**
 * Key paths address fields inside a record value, Dexie style: `"title"`, `"address.city"`.
 * Segments are separated by dots and address object properties only (arrays are values).
 */
export type KeyPathError = { readonly code: 'forbidden_key' | 'invalid_message'; readonly message: string };

const MAX_SEGMENTS = 32;

/** Splits and checks a key path; returns its segments or an error. */
export function parseKeyPath(path: string): string[] | KeyPathError {
  if (path.length === 0 || path.length > 1024) {
    return { code: 'invalid_message', message: 'key path must be 1-1024 characters' };
  }
  const segments = path.split('.');
  if (segments.length > MAX_SEGMENTS) {
    return { code: 'invalid_message', message: `key path deeper than ${MAX_SEGMENTS}` };
  }
  for (const s of segments) {
    if (s.length === 0) return { code: 'invalid_message', message: `empty segment in "${path}"` };
    if (FORBIDDEN_KEYS.has(s)) return { code: 'forbidden_key', message: `forbidden key "${s}"` };
  }
  return segments;
}

export function isKeyPathError(v: string[] | KeyPathError): v is KeyPathError {
  return !Array.isArray(v);
}

/** Reads the value at a path, or undefined when any segment is missing. */
export function getAtPath(obj: JsonObject, segments: readonly string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = obj;
  for (const s of segments) {
    if (!isJsonObject(cur) || !Object.hasOwn(cur, s)) return undefined;
    cur = cur[s];
  }
  return cur;
}

/**
 * Sets the value at a path in place, creating (or replacing non-object) intermediate objects.
 * Callers pass a private copy.
 */
export function setAtPath(obj: JsonObject, segments: readonly string[], value: JsonValue): void {
  let cur = obj;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    const next = cur[s];
    if (isJsonObject(next)) {
      cur = next;
    } else {
      const created: JsonObject = {};
      cur[s] = created;
      cur = created;
    }
  }
  cur[segments[segments.length - 1]!] = value;
}

/** Removes the value at a path in place; a missing path is a no-op. */
export function unsetAtPath(obj: JsonObject, segments: readonly string[]): void {
  let cur: JsonValue | undefined = obj;
  for (let i = 0; i < segments.length - 1; i++) {
    if (!isJsonObject(cur)) return;
    cur = cur[segments[i]!];
  }
  if (isJsonObject(cur)) delete cur[segments[segments.length - 1]!];
}
