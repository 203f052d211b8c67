import { isJsonObject, isTagLike, jsonEqual, type JsonObject, type JsonValue } from '@syncline/protocol';

export interface MergeOutcome {
  readonly value: JsonObject;
  /** Key paths where both sides changed the value differently and the incoming side won. */
  readonly overwritten: string[];
}

/**
 * Field-level three-way merge of a record. A field changed only by one side keeps that side's
 * value; nested plain objects merge recursively (a Date or binary tag is one value, never merged
 * inside); a field (or array) changed by both sides to
 * different values takes the incoming value, the later arrival, and is reported in
 * `overwritten`. With no known base (`undefined`), every differing field counts as changed by
 * both, so the union of fields is kept and incoming wins where they differ.
 */
export function threeWayMerge(
  base: JsonObject | undefined,
  current: JsonObject,
  incoming: JsonObject,
): MergeOutcome {
  const overwritten: string[] = [];
  const merged = mergeValue(base, current, incoming, '', overwritten);
  // Both top-level sides are objects, so the merge of them is an object too.
  return { value: isJsonObject(merged) ? merged : incoming, overwritten };
}

/** A plain object merged field by field; a tag (`{ $date: … }`, binary) is an atom. */
function isMergeable(v: JsonValue | undefined): v is JsonObject {
  return isJsonObject(v) && !isTagLike(v);
}

function mergeValue(
  base: JsonValue | undefined,
  cur: JsonValue | undefined,
  inc: JsonValue | undefined,
  path: string,
  overwritten: string[],
): JsonValue | undefined {
  if (jsonEqual(inc, base)) return cur;
  if (jsonEqual(cur, base) || jsonEqual(cur, inc)) return inc;
  if (isMergeable(cur) && isMergeable(inc) && (base === undefined || isMergeable(base))) {
    const out: JsonObject = {};
    const keys = new Set([...Object.keys(base ?? {}), ...Object.keys(cur), ...Object.keys(inc)]);
    for (const k of [...keys].sort()) {
      const v = mergeValue(base?.[k], cur[k], inc[k], path === '' ? k : `${path}.${k}`, overwritten);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  overwritten.push(path === '' ? '(record)' : path);
  return inc;
}
