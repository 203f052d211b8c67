/**
 * Folding two patches into one that the server applies with the same outcome as both in turn.
 * The server applies a patch's sets (in key order) before its unsets, so the merged patch is
 * kept in a normal form where no key path is at or below another: then its entries commute and
 * their order no longer matters. Each incoming entry, in the server's order:
 * - drops every entry at or below its path (it overrides them), except that a nested unset does
 *   not merge with a set it overrides (the objects that set created on its way would stay);
 * - below an earlier `set` of an ancestor, is folded into that value (setting or unsetting inside
 *   a copy of it, exactly as the server would walk the record through it);
 * - below an earlier `unset` of an ancestor: a `set` turns it into a `set` of the ancestor to a
 *   fresh object holding the new value (the server creates those objects), an `unset` is a no-op;
 * - otherwise it is added.
 */
import {
  checkEncoded,
  cloneJson,
  isJsonObject,
  isKeyPathError,
  parseKeyPath,
  setAtPath,
  unsetAtPath,
  type JsonObject,
  type JsonValue,
  type Patch,
} from '@syncline/protocol';

/** The most unsets a patch may carry (`PatchSchema`). */
const MAX_UNSETS = 1024;

type Entry =
  | { readonly segs: readonly string[]; readonly set: true; value: JsonValue }
  | {
      readonly segs: readonly string[];
      readonly set: false;
    };

/** Whether `prefix` is `segs` or an ancestor of it. */
function isAtOrAbove(prefix: readonly string[], segs: readonly string[]): boolean {
  return prefix.length <= segs.length && prefix.every((s, i) => segs[i] === s);
}

/** A patch's entries in the order the server applies them, or undefined when a path is bad. */
function opsOf(patch: Patch): Entry[] | undefined {
  const out: Entry[] = [];
  for (const [path, value] of Object.entries(patch.set ?? {})) {
    const segs = parseKeyPath(path);
    if (isKeyPathError(segs)) return undefined;
    out.push({ segs, set: true, value });
  }
  for (const path of patch.unset ?? []) {
    const segs = parseKeyPath(path);
    if (isKeyPathError(segs)) return undefined;
    out.push({ segs, set: false });
  }
  return out;
}

/** Adds one entry to a normal form (see the file comment); false when it cannot be represented. */
function fold(entries: Entry[], op: Entry): boolean {
  const above = entries.find((e) => e.segs.length < op.segs.length && isAtOrAbove(e.segs, op.segs));
  if (above) {
    const rest = op.segs.slice(above.segs.length);
    if (above.set) {
      // The server walks the record through the earlier value: a non-object is replaced by {}.
      const copy: JsonObject = isJsonObject(above.value) ? cloneJson(above.value) : {};
      if (op.set) setAtPath(copy, rest, cloneJson(op.value));
      else if (isJsonObject(above.value)) unsetAtPath(copy, rest);
      else return true; // unset inside a non-object: a no-op for the server too
      // Reaching into a tag ($date, …) would make a value the server refuses as a whole.
      if (!checkEncoded(copy).ok) return false;
      above.value = copy;
      return true;
    }
    if (!op.set) return true; // already absent
    const created: JsonObject = {};
    setAtPath(created, rest, cloneJson(op.value));
    entries.splice(entries.indexOf(above), 1, { segs: above.segs, set: true, value: created });
    return true;
  }
  const below = entries.filter((e) => isAtOrAbove(op.segs, e.segs));
  // A nested set leaves the objects it created on its way behind (`a.c` creates `a`): a later
  // unset at or above it removes the value but not those, so the pair has no one-patch form.
  if (!op.set && op.segs.length > 1 && below.some((e) => e.set)) return false;
  for (const e of below) entries.splice(entries.indexOf(e), 1);
  entries.push(op.set ? { segs: op.segs, set: true, value: cloneJson(op.value) } : op);
  return true;
}

/**
 * One patch with the effect of `first` then `second` on any record, or undefined when they
 * cannot be merged (a bad key path, a set reaching into a tag, too many unsets): the caller then
 * sends them apart.
 */
export function mergePatches(first: Patch, second: Patch): Patch | undefined {
  const entries: Entry[] = [];
  for (const patch of [first, second]) {
    const ops = opsOf(patch);
    if (!ops) return undefined;
    for (const op of ops) if (!fold(entries, op)) return undefined;
  }
  const set: Record<string, JsonValue> = {};
  const unset: string[] = [];
  for (const e of entries) {
    if (e.set) set[e.segs.join('.')] = e.value;
    else unset.push(e.segs.join('.'));
  }
  if (unset.length > MAX_UNSETS) return undefined;
  return { ...(Object.keys(set).length > 0 ? { set } : {}), ...(unset.length > 0 ? { unset } : {}) };
}
