// What a conflict resolution writes, as the smallest set of field changes on the record as this
// device shows it (the server's current value plus its own pending changes). Pure functions.
import {
  decodeKey,
  decodeValue,
  getAtPath,
  isJsonObject,
  isTagLike,
  jsonEqual,
  type AppValue,
  type JsonObject,
  type JsonValue,
} from '@syncline/protocol';

/** One field to set (or, with `value` undefined, to remove), by wire key path segments. */
export interface FieldChange {
  readonly path: readonly string[];
  readonly value: JsonValue | undefined;
}

/** True when writing at `a` would change `b` or the reverse (one is a prefix of the other). */
function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Leaf-level differences from `from` to `to` under `path`, stopping at tags (Dates, binaries). */
function diffAt(
  path: readonly string[],
  from: JsonValue | undefined,
  to: JsonValue | undefined,
  out: FieldChange[],
): void {
  if (jsonEqual(from, to)) return;
  if (isJsonObject(from) && isJsonObject(to) && !isTagLike(from) && !isTagLike(to)) {
    for (const k of new Set([...Object.keys(from), ...Object.keys(to)]))
      diffAt([...path, k], from[k], to[k], out);
    return;
  }
  out.push({ path, value: to });
}

/**
 * The changes that make each of `paths` in `current` equal to the same path in `target`
 * (absent in `target`: removed), descending into objects so that only the leaves that differ are
 * written. Paths that touch a counter (an `inc` field, or an object holding one) or a key field
 * are left out: the server merges increments on its own, and a key never changes.
 */
export function resolutionChanges(
  current: JsonObject,
  target: JsonObject | null,
  paths: readonly (readonly string[])[],
  counters: readonly string[],
  keyFields: readonly string[],
): FieldChange[] {
  const out: FieldChange[] = [];
  for (const p of paths) {
    diffAt(p, getAtPath(current, p), target === null ? undefined : getAtPath(target, p), out);
  }
  const guarded = [...counters, ...keyFields].map((c) => c.split('.'));
  const seen = new Set<string>();
  return out.filter((c) => {
    const id = c.path.join('\u0000');
    if (seen.has(id)) return false;
    seen.add(id);
    return !guarded.some((g) => overlaps(g, c.path));
  });
}

/** The changes as a Dexie `update` spec: app key paths, app values, `undefined` to remove. */
export function appChangeSpec(changes: readonly FieldChange[]): Record<string, AppValue | undefined> {
  const spec: Record<string, AppValue | undefined> = {};
  for (const c of changes) {
    spec[c.path.map(decodeKey).join('.')] = c.value === undefined ? undefined : decodeValue(c.value);
  }
  return spec;
}
