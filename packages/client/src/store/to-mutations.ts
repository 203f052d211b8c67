import { PropModification } from 'dexie';
import {
  changedKeys,
  decodeKey,
  encodeKey,
  getAtPath,
  isTagLike,
  type JsonObject,
  type JsonValue,
  type Patch,
} from '@syncline/protocol';
import type { KeyPath } from './synced-keys.js';

/** A mutation before it gets its mid, base and scope. */
export type MutationDraft =
  | { readonly op: 'put'; readonly value: JsonObject }
  | { readonly op: 'patch'; readonly patch: Patch }
  | { readonly op: 'delete' }
  | { readonly op: 'inc'; readonly field: string; readonly by: number };

interface PropModSpec {
  add?: unknown;
  remove?: unknown;
}

/** A Dexie `add(n)` / `remove(n)` on a number: commutative, so it travels as `inc`. */
function numericDelta(v: unknown): number | undefined {
  if (!(v instanceof PropModification)) return undefined;
  const spec = (v as unknown as { '@@propmod': PropModSpec })['@@propmod'];
  if (typeof spec.add === 'number') return spec.add;
  if (typeof spec.remove === 'number') return -spec.remove;
  return undefined;
}

const isKeyField = (path: string, keyPath: KeyPath) =>
  typeof keyPath === 'string' ? path === keyPath : (keyPath?.includes(path) ?? false);

/**
 * The wire segments of an app key path, cut short where it would reach into a tag (a Date or
 * binary, or a user object that travels escaped) before or after the change: such a value is
 * only ever set or unset as a whole, so a patch can never forge or break a tag.
 */
function wirePath(path: string, before: JsonObject | undefined, after: JsonObject): string[] {
  const segs = path.split('.').map(encodeKey);
  for (let n = 1; n < segs.length; n++) {
    const prefix = segs.slice(0, n);
    if (isTagLike(getAtPath(after, prefix)) || (before && isTagLike(getAtPath(before, prefix))))
      return prefix;
  }
  return segs;
}

/**
 * Turns a Dexie change spec (`update`/`modify` with an object) into field-level drafts: numeric
 * `add()`/`remove()` become `inc`; other fields become one `patch` whose set values are read
 * from the resulting object (so array prop-modifications and nested paths come out right) and
 * whose `undefined` values become unsets. The primary key is never patched. `before` and `after`
 * are in the wire encoding; paths are encoded to match.
 */
export function draftsFromChangeSpec(
  changeSpec: Readonly<Record<string, unknown>>,
  before: JsonObject | undefined,
  after: JsonObject,
  keyPath: KeyPath,
): MutationDraft[] {
  const drafts: MutationDraft[] = [];
  const set: Record<string, JsonValue> = {};
  const unset = new Set<string>();
  for (const [path, change] of Object.entries(changeSpec)) {
    if (isKeyField(path, keyPath)) continue;
    const delta = numericDelta(change);
    if (delta !== undefined) {
      drafts.push({ op: 'inc', field: path.split('.').map(encodeKey).join('.'), by: delta });
      continue;
    }
    const segs = wirePath(path, before, after);
    const value = getAtPath(after, segs);
    if (value === undefined) unset.add(segs.join('.'));
    else set[segs.join('.')] = value;
  }
  const patch = patchOf(set, [...unset]);
  if (patch) drafts.unshift({ op: 'patch', patch });
  return drafts;
}

/** Top-level fields that differ, as a patch (for `modify(fn)`, where Dexie gives no spec). */
export function draftFromDiff(before: JsonObject, after: JsonObject, keyPath: KeyPath): MutationDraft[] {
  const set: Record<string, JsonValue> = {};
  const unset: string[] = [];
  for (const k of changedKeys(before, after)) {
    if (isKeyField(decodeKey(k), keyPath)) continue;
    const b = after[k];
    if (b === undefined) unset.push(k);
    else set[k] = b;
  }
  const patch = patchOf(set, unset);
  return patch ? [{ op: 'patch', patch }] : [];
}

/** A patch from sets and unsets, or undefined when there is nothing to change. */
function patchOf(set: Record<string, JsonValue>, unset: string[]): Patch | undefined {
  const hasSet = Object.keys(set).length > 0;
  if (!hasSet && unset.length === 0) return undefined;
  return { ...(hasSet ? { set } : {}), ...(unset.length > 0 ? { unset } : {}) };
}
