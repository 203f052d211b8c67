import { canonicalJson, isJsonObject, VALUE_TAGS, type JsonValue } from '@syncline/protocol';

/**
 * A total order over encoded values, so every field sorts and pages the same way whatever it
 * holds: missing < null < booleans < numbers < strings < dates < anything else (objects,
 * arrays, bytes, compared by their canonical JSON). Within a kind the natural order applies
 * (strings by UTF-16 code units, dates by time).
 */
export function compareValues(a: JsonValue | undefined, b: JsonValue | undefined): number {
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case RANK.missing:
    case RANK.null:
      return 0;
    case RANK.boolean:
      return Number(a) - Number(b);
    case RANK.number:
      return (a as number) - (b as number);
    case RANK.string:
      return cmp(a as string, b as string);
    case RANK.date:
      return dateOf(a!) - dateOf(b!);
    default:
      return cmp(canonicalJson(a!), canonicalJson(b!));
  }
}

/** True for values `lt`/`gt` can compare: booleans, numbers, strings and dates. */
export function isOrderedScalar(v: JsonValue): boolean {
  const r = rankOf(v);
  return r >= RANK.boolean && r <= RANK.date;
}

/** True when `a` and `b` are of the same kind (a comparison across kinds never matches). */
export function sameKind(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return rankOf(a) === rankOf(b);
}

const RANK = { missing: 0, null: 1, boolean: 2, number: 3, string: 4, date: 5, other: 6 } as const;

function rankOf(v: JsonValue | undefined): number {
  if (v === undefined) return RANK.missing;
  if (v === null) return RANK.null;
  if (typeof v === 'boolean') return RANK.boolean;
  if (typeof v === 'number') return RANK.number;
  if (typeof v === 'string') return RANK.string;
  return isDateTag(v) ? RANK.date : RANK.other;
}

function isDateTag(v: JsonValue): boolean {
  return isJsonObject(v) && Object.hasOwn(v, VALUE_TAGS.date) && typeof v[VALUE_TAGS.date] === 'string';
}

// Stored dates are checked encodings; a malformed one (stored before the check) sorts as the epoch.
const dateOf = (v: JsonValue): number => Date.parse((v as Record<string, string>)[VALUE_TAGS.date]!) || 0;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
