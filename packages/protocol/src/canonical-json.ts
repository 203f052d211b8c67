import type { JsonValue } from './json.js';

/**
 * JSON with object keys sorted by UTF-16 code unit order and no whitespace: two equal values
 * always encode to the same string, on any JS engine. `undefined` properties are dropped.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
}
